/**
 * `skiff system service`: the Docker Engine API on a Unix socket (or TCP on loopback), on demand.
 * Requests run the same domain functions as the CLI, with the service's own privileges (as Docker's
 * socket: whoever can connect can run containers as this user). The service exits after `idleSec`
 * seconds with no open connection (0: never), and on SIGTERM/SIGINT once in-flight requests end.
 * Socket activation: with LISTEN_FDS (systemd), it serves the inherited descriptor 3.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { paths } from '../config.js';
import { native } from '../native.js';
import { SkiffError } from '../errors.js';
import { skiffVersion } from '../lib/version.js';
import { mark } from '../lib/trace.js';
import { inUserns } from '../userns/enter.js';
import type { Sink } from './attach.js';
import { ApiError, MAX_JSON_BODY, sendError, setUpgradeBody } from './http.js';
import { API_VERSION, dispatch, match, parseTarget, type Context, type Route } from './router.js';
import { systemRoutes } from './system.js';

/**
 * The routing tables by a path's first segment. Each is loaded (its module and the domain modules
 * it imports evaluated) at the first request that needs it: a socket-activated service answers the
 * client's first request (/_ping) without the container, image or build code (bench/api.sh).
 */
const containers = async (): Promise<Route[]> => (await import('./containers.js')).containerRoutes;
const images = async (): Promise<Route[]> => (await import('./images.js')).imageRoutes;
const ROUTE_GROUPS: Record<string, () => Promise<Route[]> | Route[]> = {
  _ping: () => systemRoutes, version: () => systemRoutes, info: () => systemRoutes, events: () => systemRoutes,
  containers, exec: containers,
  images, auth: images,
  build: async () => (await import('./build.js')).buildRoutes,
  networks: async () => (await import('./networks.js')).networkRoutes,
  volumes: async () => (await import('./volumes.js')).volumeRoutes,
};

/** The routes a path may match ([]: none, a 404). */
function routesFor(p: string): Promise<Route[]> | Route[] {
  const seg = /^\/([^/]*)/.exec(p)?.[1] ?? '';
  return Object.hasOwn(ROUTE_GROUPS, seg) ? ROUTE_GROUPS[seg]!() : [];
}

export interface ServiceOptions {
  /** seconds without a connection before exiting; 0: never */
  idleSec: number;
  /** unix:///path or tcp://127.0.0.1:PORT; default: the runroot's docker.sock */
  uri?: string;
}

/** Where the socket goes when no URI is given: /run/skiff/docker.sock, $XDG_RUNTIME_DIR/skiff/docker.sock rootless. */
export function defaultSocket(): string {
  return path.join(paths().runroot, 'docker.sock');
}

type Listen = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'fd'; fd: number };

export function parseUri(uri: string | undefined): Listen {
  if (!uri) return { kind: 'unix', path: defaultSocket() };
  const unix = /^unix:\/\/(\/.+)$/.exec(uri);
  if (unix) return { kind: 'unix', path: unix[1]! };
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(uri);
  if (tcp) {
    const host = tcp[1]!.replace(/^\[|\]$/g, '');
    if (!['127.0.0.1', 'localhost', '::1'].includes(host) && !/^127\./.test(host)) {
      throw new SkiffError('EINVAL', `refusing to listen on ${host}: the API gives full control of this user's containers; only loopback addresses are allowed`);
    }
    return { kind: 'tcp', host, port: Number(tcp[2]) };
  }
  throw new SkiffError('EINVAL', `invalid URI "${uri}": want unix:///path/to.sock or tcp://127.0.0.1:PORT`);
}

/** The socket's directory: made if missing (0700 rootless, 0711 root), never one another user can write to. */
function prepareDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: paths().rootless ? 0o700 : 0o711 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid!();
  if (!st.isDirectory()) throw new SkiffError('EINVAL', `${dir} is not a directory: cannot put the API socket there`);
  if (st.uid !== uid && st.uid !== 0) throw new SkiffError('EINVAL', `${dir} belongs to uid ${st.uid}, not to this user: choose another socket path`);
  if (st.mode & 0o022) throw new SkiffError('EINVAL', `${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): make it 0700 or choose another socket path`);
}

/** A socket file left by a service that died is replaced; one that answers is someone else's. */
async function clearStale(sock: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(sock);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new SkiffError('EINVAL', `${sock} exists and is not a socket: remove it or choose another path`);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.createConnection({ path: sock });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new SkiffError('ECONFLICT', `another service is listening on ${sock}`);
  fs.unlinkSync(sock);
}

/** Group `skiff` if it exists (root; else root's group): its members may use the socket, as Docker's `docker` group. */
function skiffGroup(): number | undefined {
  try {
    const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('skiff:'));
    const gid = line ? Number(line.split(':')[2]) : NaN;
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves when `w` can take more (or has closed). */
function drained(w: NodeJS.EventEmitter): Promise<void> {
  return new Promise((r) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      r();
    };
    w.once('drain', done);
    w.once('close', done);
  });
}

function responseSink(res: ServerResponse, contentType?: string): Sink {
  const head = (): void => {
    if (!res.headersSent) res.writeHead(200, contentType ? { 'Content-Type': contentType } : {});
  };
  return {
    write: (b) => {
      head();
      return res.write(b);
    },
    end: () => {
      head();
      res.end();
    },
    closed: () => res.destroyed || res.writableEnded,
    onClose: (fn) => void res.once('close', fn),
    drain: () => drained(res),
  };
}

function socketSink(s: net.Socket): Sink {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return {
    write: (b) => (s.destroyed ? false : s.write(b)),
    end: () => void s.end(),
    closed: () => s.destroyed || !s.writable,
    onClose: (fn) => void s.once('close', fn),
    drain: () => drained(s),
    ...(fd !== undefined && fd >= 0 ? { peerGone: () => !s.destroyed && native().peerClosed(fd) } : {}),
  };
}

/**
 * An upgrade request's body (Content-Length bytes: exec start's JSON) comes first on the connection:
 * taken off (from `head`, then the socket) and kept for readJson; resolves with what follows it.
 */
function upgradeBody(req: IncomingMessage, socket: net.Socket, head: Buffer): Promise<Buffer> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(len) || len <= 0) return Promise.resolve(head);
  if (len > MAX_JSON_BODY) return Promise.reject(new ApiError(413, `request body larger than ${MAX_JSON_BODY} bytes`));
  return new Promise((resolve, reject) => {
    let got = head;
    const done = (): boolean => {
      if (got.length < len) return false;
      socket.off('data', more);
      socket.off('close', gone);
      socket.pause();
      setUpgradeBody(req, got.subarray(0, len));
      resolve(got.subarray(len));
      return true;
    };
    const more = (d: Buffer): void => void ((got = Buffer.concat([got, d])), done());
    const gone = (): void => reject(new ApiError(400, 'the connection closed before the request body ended'));
    if (done()) return;
    socket.on('data', more);
    socket.once('close', gone);
    socket.resume();
  });
}

let served = false;

function handle(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: net.Socket; head: Buffer }): void {
  if (!served) {
    served = true;
    mark('first-request');
    res.once('finish', () => mark('first-answer'));
  }
  res.setHeader('Api-Version', API_VERSION);
  res.setHeader('Docker-Experimental', 'false');
  res.setHeader('Ostype', 'linux');
  res.setHeader('Server', `skiff/${skiffVersion()} (linux)`);
  let target: ReturnType<typeof parseTarget>;
  let routes: ReturnType<typeof routesFor>;
  try {
    target = parseTarget(req.url ?? '/');
    routes = routesFor(target.path);
  } catch (e) {
    req.resume();
    sendError(res, e);
    return;
  }
  if (Array.isArray(routes)) route(req, res, target, routes, upgrade);
  else {
    routes.then(
      (r) => route(req, res, target, r, upgrade),
      (e: unknown) => {
        req.resume();
        sendError(res, e);
      },
    );
  }
}

function route(req: IncomingMessage, res: ServerResponse, target: ReturnType<typeof parseTarget>, routes: Route[], upgrade?: { socket: net.Socket; head: Buffer }): void {
  let found: ReturnType<typeof match>;
  try {
    found = match(routes, req.method ?? 'GET', target.path);
  } catch (e) {
    req.resume();
    sendError(res, e);
    return;
  }
  let hijacked = false;
  const ctx: Context = {
    req, res, params: found.params, query: target.query,
    closed: () => (upgrade ? upgrade.socket.destroyed : res.destroyed),
    sink: (type) => responseSink(res, type),
    hijack: (type) => {
      if (!upgrade || hijacked) return undefined;
      hijacked = true;
      const { socket, head } = upgrade;
      res.detachSocket(socket);
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
      if (head.length) socket.unshift(head);
      return { sink: socketSink(socket), input: socket };
    },
  };
  const via = found.route.ns && delegating() ? viaWorker(found.route, ctx) : undefined;
  void (via ?? dispatch(found.route, ctx)).finally(() => {
    if (upgrade && !hijacked && !upgrade.socket.destroyed) res.once('finish', () => upgrade.socket.end());
  });
}

/** Rootless outside skiff's user namespace (which the rootless network namespace's worker is in too): this is the listener, and routes with `ns` may go to a worker (workers.ts). */
const delegating = (): boolean => paths().rootless && !inUserns();

let workers: typeof import('./workers.js') | undefined;

/** The route's request at its worker, or here when it names none for these captures; failures as Docker's JSON error. */
async function viaWorker(r: Route, ctx: Context): Promise<void> {
  const { req, res, params } = ctx;
  try {
    const w = await r.ns!(params);
    if (w) {
      workers ??= await import('./workers.js');
      await workers.forward(w, req, res, r.liveRoot ? params[0] : undefined);
      return;
    }
  } catch (e) {
    req.resume();
    sendError(res, e);
    return;
  }
  await dispatch(r, ctx);
}

/** Serve until idle for `idleSec` or told to stop; resolves when the service has stopped. */
export async function serve(o: ServiceOptions): Promise<void> {
  mark('service-loaded');
  const activated = process.env.LISTEN_FDS && Number(process.env.LISTEN_FDS) >= 1 && (!process.env.LISTEN_PID || Number(process.env.LISTEN_PID) === process.pid);
  const where: Listen = activated && !o.uri ? { kind: 'fd', fd: 3 } : parseUri(o.uri);
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDNAMES;
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => handle(req, res));
  // a client that shuts down its sending side after the request still gets the reply
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('upgrade', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    void upgradeBody(req, socket, head).then(
      (rest) => handle(req, res, { socket, head: rest }),
      (e: unknown) => sendError(res, e),
    );
  });
  // garbage on the socket: a 400 and the connection closed, nothing else
  server.on('clientError', (_e, socket: net.Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"malformed HTTP request"}\n');
    else socket.destroy();
  });
  const sockets = new Set<net.Socket>();
  let idle: NodeJS.Timeout | undefined;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    if (where.kind === 'unix') fs.rmSync(where.path, { force: true });
    workers?.stopWorkers();
    // requests under way get a moment to finish; streams that never end (logs -f, attach) are cut
    setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, 2000).unref();
  };
  const armIdle = (): void => {
    if (idle) clearTimeout(idle);
    idle = o.idleSec > 0 && sockets.size === 0 ? setTimeout(stop, o.idleSec * 1000) : undefined;
  };
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    armIdle();
    s.on('close', () => {
      sockets.delete(s);
      armIdle();
    });
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (where.kind === 'unix') {
    prepareDir(path.dirname(where.path));
    await clearStale(where.path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new SkiffError('EINVAL', `cannot listen on ${where.kind === 'unix' ? where.path : where.kind === 'tcp' ? `${where.host}:${where.port}` : 'fd 3'}: ${e.message}`)));
    if (where.kind === 'unix') {
      // made with no access for anyone, then opened to the owner (and group skiff, root)
      const old = process.umask(0o777);
      server.listen(where.path, () => {
        process.umask(old);
        const gid = paths().rootless ? undefined : skiffGroup();
        if (gid !== undefined) fs.chownSync(where.path, 0, gid);
        fs.chmodSync(where.path, paths().rootless ? 0o600 : 0o660);
        resolve();
      });
    } else if (where.kind === 'tcp') server.listen(where.port, where.host, resolve);
    else server.listen({ fd: where.fd }, resolve);
  });
  mark('listening');
  // a worker (workers.ts) tells its listener it is ready
  if (process.env._SKIFF_API_WORKER === '1') process.stdout.write('ready\n');
  delete process.env._SKIFF_API_WORKER;
  armIdle();
  await new Promise<void>((resolve) => server.once('close', () => resolve()));
  if (idle) clearTimeout(idle);
}

export { ApiError };
