/**
 * Rootless, the service is split as the CLI is (ARCHITECTURE.md, the Engine API): its listener runs
 * outside any namespace, as `skiff run`, `start` and `exec` do, so it starts containers whose user
 * namespaces it owns and enters any container the CLI started. A request whose route names a worker
 * (`Route.ns`) is handed, as HTTP, to a service of the same code running inside that namespace:
 * `userns` (skiff's user namespace, `skiff-shim unshare`: store work, as the CLI's `userns`
 * commands; for `cp` on a running container, a worker of its own that got the container's root as
 * fd 3) or `netns` (the rootless network namespace, `skiff-shim netns`: starts on user-defined
 * networks, as the CLI's `netns` commands). A worker is the listener's child on a socket of its own
 * in the runroot, started at the first request that needs it; it ends when the listener stops, or
 * after WORKER_IDLE_SEC without a request (a listener killed outright leaves it that long).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { paths } from '../config.js';
import { childProcess } from '../lib/lazy.js';
import { shimPath } from '../native.js';
import { ApiError, sendError } from './http.js';
import { LIVE_ROOT_ENV, type Worker } from './router.js';

const WORKER_IDLE_SEC = 30;
/** A worker holding a running container's root: the requests of one `docker cp` (HEAD, then GET or PUT). */
const ROOT_WORKER_IDLE_SEC = 2;

interface Running {
  child: ChildProcess;
  sock: string;
  ready: Promise<void>;
}

/** By worker kind, or `userns-root-PID` for a worker holding a running container's root; set at once, so two first requests start one. */
const running = new Map<string, Promise<Running>>();

/** The worker's command line: the same CLI on the same store, `system service` on its own socket. */
function workerArgv(sock: string, idleSec: number): string[] {
  return ['--root', paths().root, '--runroot', paths().runroot, 'system', 'service', '--time', String(idleSec), `unix://${sock}`];
}

/** The worker under `key`, started if none runs; `pid`: the running container whose root it gets. */
function workerAt(w: Worker, key: string, pid?: number): Promise<Running> {
  const known = running.get(key);
  if (known) return known;
  const started = spawnWorker(w, key, pid);
  const forget = (): void => {
    if (running.get(key) === started) running.delete(key);
  };
  running.set(key, started);
  started.then((r) => (r.child.once('exit', forget), r.ready)).catch(forget);
  return started;
}

/** Start worker `w` on a socket named after `key`; `pid`: a running container whose root it gets as fd 3. */
async function spawnWorker(w: Worker, key: string, pid?: number): Promise<Running> {
  const sock = path.join(paths().runroot, `api-${key}.${process.pid}.sock`);
  const argv = workerArgv(sock, pid ? ROOT_WORKER_IDLE_SEC : WORKER_IDLE_SEC);
  let args: string[];
  let env: Record<string, string>;
  if (w === 'userns') {
    const c = (await import('../userns/enter.js')).usernsCommand(argv);
    [args, env] = [c.args, c.env];
  } else {
    const c = (await import('../network/rootless-netns.js')).netnsCommand(argv);
    args = c.args;
    env = Object.fromEntries(c.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  }
  env._SKIFF_API_WORKER = '1';
  if (pid) env[LIVE_ROOT_ENV] = String(pid);
  // its user namespace is the user's, a sibling of skiff's: only this side may open it (`skiff cp`'s usernsFds)
  const root = pid ? fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : undefined;
  let child: ChildProcess;
  try {
    child = childProcess().spawn(shimPath(), args.slice(1), { argv0: args[0], env, stdio: ['ignore', 'pipe', 'pipe', ...(root === undefined ? [] : [root])] });
  } finally {
    if (root !== undefined) fs.closeSync(root); // the worker has its own
  }
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 4096) err += d;
    process.stderr.write(d);
  });
  const r: Running = {
    child, sock,
    ready: new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('ready\n')) resolve();
      });
      child.once('error', (e) => reject(new ApiError(500, `cannot start the service's ${w} worker: ${e.message}`)));
      child.once('exit', () => reject(new ApiError(500, `the service's ${w} worker ended before it listened: ${err.trim().split('\n').pop() ?? ''}`.trim())));
    }),
  };
  return r;
}

function dial(sock: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: sock });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * A connection to worker `w`, started if none runs (once more if the one there was just ending).
 * `liveRoot`: the container whose root, when it runs, a worker of its own gets.
 */
async function connect(w: Worker, liveRoot?: string): Promise<net.Socket> {
  for (let attempt = 0; ; attempt++) {
    const pid = liveRoot ? await runningPid(liveRoot) : undefined;
    const key = pid ? `${w}-root-${pid}` : w;
    const p = workerAt(w, key, pid);
    const r = await p;
    await r.ready;
    try {
      return await dial(r.sock);
    } catch (e) {
      if (running.get(key) === p) running.delete(key);
      r.child.kill('SIGTERM');
      if (attempt) throw new ApiError(500, `cannot reach the service's ${w} worker: ${(e as Error).message}`);
    }
  }
}

/** The pid of container `ref` when it runs (a missing one: undefined, the worker says so in Docker's words). */
async function runningPid(ref: string): Promise<number | undefined> {
  const [{ findContainer }, { containerState }] = await Promise.all([import('../store/containers.js'), import('../container/state.js')]);
  try {
    const st = containerState(findContainer(ref));
    return st.Running && st.Pid ? st.Pid : undefined;
  } catch {
    return undefined;
  }
}

/** The hop-by-hop headers of a reply, which this side's server sets for its own connection. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

/**
 * Hand the request to worker `w` and its reply (status, headers, streamed body) to the client. A
 * client that leaves closes the worker's request too (a build stops, as `BuildOptions.signal` says).
 * `liveRoot`: the container whose running root the worker gets (`cp` into a running container).
 */
export async function forward(w: Worker, req: IncomingMessage, res: ServerResponse, liveRoot?: string): Promise<void> {
  const socket = await connect(w, liveRoot);
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
  headers.connection = 'close';
  await new Promise<void>((resolve) => {
    const out = http.request({ createConnection: () => socket, method: req.method, path: req.url, headers });
    out.on('response', (r) => {
      const h: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP.has(k)) h[k] = v;
      res.writeHead(r.statusCode ?? 500, r.statusMessage, h);
      r.pipe(res);
      r.once('end', () => resolve());
      r.once('error', () => (res.destroy(), resolve()));
    });
    out.on('error', (e) => {
      if (!res.headersSent) sendError(res, new ApiError(500, `the service's ${w} worker failed: ${e.message}`));
      else res.destroy();
      resolve();
    });
    res.once('close', () => {
      if (!res.writableFinished) out.destroy();
      resolve();
    });
    req.pipe(out);
  });
}

/** The listener stops: so do its workers (each ends its requests under way as the service does on SIGTERM). */
export function stopWorkers(): void {
  for (const p of running.values()) p.then((r) => r.child.kill('SIGTERM'), () => undefined);
  running.clear();
}
