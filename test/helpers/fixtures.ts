/**
 * Test helpers: the fixture registries and images (made by scripts/make-fixtures.sh with umoci,
 * buildah, debootstrap and skopeo, described in fixtures.json), a per-test store, `skiff()` which
 * runs the real CLI binary, `skopeoInspect()` for an independent view of a registry, and registries
 * that misbehave on purpose (a blob-corrupting proxy, an address nobody listens on).
 *
 * Environment (set by scripts/test.sh):
 *   SKIFF_TEST_REGISTRY        open registry, host:port (plain HTTP)
 *   SKIFF_TEST_AUTH_REGISTRY   htpasswd registry (testuser / testpass), host:port
 *   SKIFF_TEST_FIXTURES        path of fixtures.json
 *   SKIFF_TEST_ROOTLESS=1      the suite runs as the unprivileged user (root-only tests skip)
 *   SKIFF_BIN                  the CLI to run (default: bin/skiff of this checkout)
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or the copy scripts/test.sh made): this file runs as dist/test/helpers/fixtures.js. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SKIFF_BIN = process.env.SKIFF_BIN ?? path.join(REPO, 'bin/skiff');

export const isRootless = (): boolean => process.env.SKIFF_TEST_ROOTLESS === '1';

// ---- fixtures.json -------------------------------------------------------------------------------

/** The images scripts/make-fixtures.sh pushes (keys of `Fixtures.images`). */
export type FixtureName =
  | 'busybox' // busybox:latest — umoci, 1 layer, OCI manifest (no mediaType field: umoci leaves it out)
  | 'busyboxV2s2' // busybox:v2s2 — the same image as a Docker v2 schema 2 manifest (same config digest)
  | 'otherBusybox' // other/busybox:1 — the same image in a second repository
  | 'multilayer' // multilayer:latest — busybox + 4 umoci layers (modes, owners, links, xattrs, caps, per-file whiteouts)
  | 'opaque' // opaque:latest — busybox + 1 buildah (overlay) layer: etc/.wh..wh..opq and bin/.wh.vi
  | 'multiarch' // multiarch:latest — OCI index: linux/amd64 (= busybox) + linux/arm64/v8 (not runnable)
  | 'debian' // debian:bookworm — debootstrap minbase, 1 layer, buildah
  | 'benchLayers'; // bench-layers:latest — busybox + 8 layers of a few MB each

/** One path of an image's root filesystem, as umoci unpacked it (as root). */
export interface FixtureFile {
  /** absolute path inside the image: "/data/suid" */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  /** permission bits in octal as `stat -c %a` prints them: "4755", "1777", "600" */
  mode: string;
  uid: number;
  gid: number;
  /** lstat size (a symlink's is its target's length; a directory's depends on the filesystem) */
  size: number;
  nlink: number;
  /** symlinks */
  target?: string;
  /** regular files: hex sha256 of the content */
  sha256?: string;
  /** xattrs other than trusted.* and security.selinux, values in hex ("user.skiff": "31") */
  xattrs?: Record<string, string>;
  /** file capabilities as getcap prints them: "cap_net_bind_service=ep" */
  capability?: string;
}

/** One layer of an image manifest, with facts read from its tar by Python's tarfile. */
export interface FixtureLayer {
  /** compressed blob digest, media type and size from the manifest the registry serves */
  digest: string;
  mediaType: string;
  size: number;
  /** from the config's rootfs.diff_ids */
  diffId: string;
  entryCount: number;
  /** whiteout entries as named in the tar: "data/.wh.doomed", "etc/.wh..wh..opq" */
  whiteouts: string[];
  /** hard link entries: name → link target, as in the tar */
  hardlinks?: Record<string, string>;
  /** every entry name (directories end in "/"), when the layer has at most 100 */
  entries?: string[];
}

export interface FixturePlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface FixtureImage {
  /** "127.0.0.1:PORT/busybox:latest" */
  ref: string;
  /** "busybox", "other/busybox" */
  repository: string;
  tag: string;
  /** which tools made it: "umoci", "buildah (overlay)", "debootstrap + buildah", ... */
  producer: string;
  /** manifest or index media type (inferred when the manifest has no mediaType field) */
  mediaType: string;
  /** false for umoci's manifests, which leave the optional field out */
  mediaTypeInManifest: boolean;
  /** sha256 of the manifest bytes the registry serves (`skopeo inspect --raw`), and their length */
  digest: string;
  size: number;
  // ---- image manifests only (not for an index) ----
  configDigest?: string;
  diffIds?: string[];
  layers?: FixtureLayer[];
  os?: string;
  architecture?: string;
  variant?: string;
  /** the image config's config object (`skopeo inspect --config`), fields that are set */
  config?: {
    Cmd?: string[];
    Entrypoint?: string[];
    Env?: string[];
    User?: string;
    WorkingDir?: string;
    Labels?: Record<string, string>;
  };
  /** what kind of whiteouts the layers hold */
  whiteoutStyle?: 'none' | 'per-file' | 'opaque' | 'both';
  /** entries in the final root filesystem (umoci's unpacked view), "/" not counted */
  fileCount?: number;
  /** notable paths; for multilayer every path under /data, for opaque every path under /etc */
  files?: FixtureFile[];
  // ---- image indexes only ----
  manifests?: { digest: string; mediaType: string; size: number; platform: FixturePlatform }[];
}

export interface Fixtures {
  version: 2;
  /** the open registry the fixtures were pushed to, host:port */
  registry: string;
  /** references (host:port/repo:tag) — the same as images[name].ref */
  busybox: string;
  busyboxV2s2: string;
  otherBusybox: string;
  multilayer: string;
  opaque: string;
  multiarch: string;
  debian: string;
  benchLayers: string;
  /** file of `stat -c '%n %F %a %u:%g %h'` lines for every path under multilayer's /data (relative, "./x") */
  multilayerDataList: string;
  /** a local apt repository (Packages file and .debs) of skiff's package dependencies and what they need (contrib/debian/depends) */
  debs: string;
  /** umoci's unpacked root filesystems (readable by root only: owners and modes are the image's) */
  unpacked: { busybox: string; multilayer: string };
  images: Record<FixtureName, FixtureImage>;
}

let cached: Fixtures | undefined;
export function fixtures(): Fixtures {
  if (cached) return cached;
  const f = process.env.SKIFF_TEST_FIXTURES;
  if (!f) throw new Error('SKIFF_TEST_FIXTURES is not set: run the tests through scripts/test.sh (make test)');
  cached = JSON.parse(fs.readFileSync(f, 'utf8')) as Fixtures;
  return cached;
}

/** A file of a fixture image by path, or an error naming what is there. */
export function fixtureFile(name: FixtureName, p: string): FixtureFile {
  const img = fixtures().images[name];
  const f = img.files?.find((x) => x.path === p);
  if (!f) throw new Error(`fixtures.json: ${name} describes no ${p} (has: ${(img.files ?? []).map((x) => x.path).join(' ')})`);
  return f;
}

/** The open registry (host:port). */
export function registry(): string {
  const r = process.env.SKIFF_TEST_REGISTRY ?? (process.env.SKIFF_TEST_FIXTURES ? fixtures().registry : undefined);
  if (!r) throw new Error('SKIFF_TEST_REGISTRY is not set: run the tests through scripts/test.sh (make test)');
  return r;
}

/** The registry with htpasswd auth (host:port); user testuser, password testpass. */
export function authRegistry(): string {
  const r = process.env.SKIFF_TEST_AUTH_REGISTRY;
  if (!r) throw new Error('SKIFF_TEST_AUTH_REGISTRY is not set: run the tests through scripts/test.sh (make test)');
  return r;
}
export const AUTH_USER = 'testuser';
export const AUTH_PASSWORD = 'testpass';

// ---- skopeo ----------------------------------------------------------------------------------------

/** `skopeo inspect` of docker://REF (plain HTTP allowed): the summary, or with `config` the image config. */
export function skopeoInspect(ref: string, config = false, creds?: string): Record<string, unknown> {
  const out = execFileSync(
    'skopeo',
    ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), ...(config ? ['--config'] : []), `docker://${ref}`],
    { maxBuffer: 64 << 20 },
  );
  return JSON.parse(out.toString()) as Record<string, unknown>;
}

/** The manifest (or index) bytes the registry serves for REF, as `skopeo inspect --raw` prints them. */
export function skopeoRaw(ref: string, creds?: string): Buffer {
  return execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', ...(creds ? ['--creds', creds] : []), `docker://${ref}`], {
    maxBuffer: 64 << 20,
  });
}

// ---- a store per test and the CLI ------------------------------------------------------------------

export interface TempStore {
  /** SKIFF_ROOT */
  root: string;
  /** SKIFF_RUNROOT */
  runroot: string;
  /** a home for the store's credentials (DOCKER_CONFIG=home/.docker) */
  home: string;
  /** the environment skiff() adds for this store */
  env: Record<string, string>;
  /** remove everything (also files owned by subordinate ids when rootless); never throws */
  cleanup(): Promise<void>;
}

/**
 * A fresh store in a temporary directory. Cleanup: rootless, layers and containers hold files owned by
 * the user's subordinate ids, which the user can only remove from inside its user namespace. So first
 * `skiff system reset --force` (skiff removes its own store inside the namespace), then rm -rf, and if
 * that is refused, `podman unshare rm -rf` (the same subuid mapping through newuidmap).
 */
export async function tempStore(): Promise<TempStore> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-test-'));
  const s: TempStore = {
    root: path.join(base, 'root'),
    runroot: path.join(base, 'run'),
    home: path.join(base, 'home'),
    env: {},
    async cleanup() {
      await skiff(['system', 'reset', '--force'], { store: s }).catch(() => undefined);
      removeTree(base);
    },
  };
  fs.mkdirSync(s.home);
  s.env = { SKIFF_ROOT: s.root, SKIFF_RUNROOT: s.runroot, DOCKER_CONFIG: path.join(s.home, '.docker') };
  return s;
}

/** A fresh store (tempStore) with a fixture image pulled into it: most e2e suites start here. */
export async function storeWithImage(name: FixtureName = 'busybox'): Promise<{ store: TempStore; image: string }> {
  const store = await tempStore();
  const image = fixtures().images[name].ref;
  const r = await skiff(['pull', '-q', image], { store });
  if (r.code !== 0) {
    await store.cleanup();
    throw new Error(`pull ${image} failed (${r.code}): ${r.stderr}`);
  }
  return { store, image };
}

/** rm -rf that also works for trees holding files of the user's subordinate ids (rootless). */
export function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  } catch (e) {
    if (process.getuid?.() === 0) {
      process.emitWarning(`could not remove ${dir}: ${(e as Error).message}`);
      return;
    }
  }
  const r = spawnSync('podman', ['unshare', 'rm', '-rf', dir], { encoding: 'utf8' });
  if (r.status !== 0 || fs.existsSync(dir)) process.emitWarning(`could not remove ${dir}: podman unshare: ${r.error?.message ?? r.stderr}`);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SkiffOptions {
  /** run against this store (SKIFF_ROOT, SKIFF_RUNROOT, DOCKER_CONFIG) */
  store?: TempStore;
  /** written to stdin, then stdin is closed (closed at once without it) */
  input?: string | Buffer;
  env?: Record<string, string>;
  /** SIGKILL the CLI after this many ms (its result then has signal SIGKILL) */
  killAfterMs?: number;
  /** SIGKILL the CLI when this promise settles (e.g. once a registry has stalled mid-blob) */
  killWhen?: Promise<unknown>;
  cwd?: string;
  /** run this executable instead of SKIFF_BIN (e.g. a copy of dist/skiff) */
  bin?: string;
}

/**
 * A test's CLI on its store (named late: stores are made in `before`): `sk` runs skiff there, `ok` also
 * requires exit 0 and gives stdout.
 */
export function storeCli(store: () => TempStore): { sk: (args: string[], o?: Omit<SkiffOptions, 'store'>) => Promise<RunResult>; ok: (args: string[], o?: Omit<SkiffOptions, 'store'>) => Promise<string> } {
  const sk = (args: string[], o: Omit<SkiffOptions, 'store'> = {}): Promise<RunResult> => skiff(args, { ...o, store: store() });
  const ok = async (args: string[], o: Omit<SkiffOptions, 'store'> = {}): Promise<string> => {
    const r = await sk(args, o);
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return { sk, ok };
}

/** Runs the skiff CLI (SKIFF_BIN) and collects its exit status and output. */
export function skiff(args: string[], o: SkiffOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.bin ?? SKIFF_BIN, args, {
      env: { ...process.env, NO_COLOR: '1', ...(o.store?.env ?? {}), ...(o.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // the CLI may exit before reading its input
    child.on('error', reject);
    const timer = o.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), o.killAfterMs) : undefined;
    const kill = (): void => void child.kill('SIGKILL');
    o.killWhen?.then(kill, kill);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

// ---- registries that misbehave ---------------------------------------------------------------------

export interface BrokenRegistry {
  /** host:port to pull from */
  addr: string;
  /** digests of the blobs whose bytes were damaged, in order (repeats when fetched again) */
  damaged: string[];
  /** every request seen: "GET /v2/busybox/blobs/sha256:..." */
  requests: string[];
  /** mode stall: settles when the first GET of the blob has sent its part and holds the connection */
  stalled: Promise<void>;
  /** mode stall: send the rest of the held blob */
  release(): void;
  close(): Promise<void>;
}

export interface BrokenRegistryOptions {
  /** the real registry behind the proxy (default: registry()) */
  upstream?: string;
  /** the blob to damage; default: the first blob a client GETs. Every GET of it is damaged. */
  digest?: string;
  /**
   * corrupt: flip one byte in the middle of the body (same length, so only a digest check notices);
   * truncate: send half of the body, then drop the connection;
   * status500: answer that blob with 500 and a registry error body;
   * stall: send the first `stallAt` fraction of the body (default half), then hold the connection
   * open without sending more until release() (the first GET only; later GETs pass through).
   */
  mode?: 'corrupt' | 'truncate' | 'status500' | 'stall';
  /** mode stall: the fraction of the body sent before stalling (0: headers only) */
  stallAt?: number;
}

/**
 * A tiny HTTP proxy on 127.0.0.1:0 in front of the real registry which damages one blob
 * (GET /v2/<name>/blobs/<digest>); everything else passes through unchanged.
 */
export async function startBrokenRegistry(o: BrokenRegistryOptions = {}): Promise<BrokenRegistry> {
  const upstream = o.upstream ?? registry();
  const [uhost, uport] = splitHostPort(upstream);
  const mode = o.mode ?? 'corrupt';
  let target = o.digest;
  const damaged: string[] = [];
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const upstreamRequests = new Set<http.ClientRequest>();
  let markStalled: () => void = () => undefined;
  const stalled = new Promise<void>((r) => (markStalled = r));
  let stalls = 0;
  const releases: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})(?:\?.*)?$/.exec(req.url ?? '');
    if (req.method === 'GET' && m && !target) target = m[1];
    const hit = req.method === 'GET' && m !== null && m[1] === target && (mode !== 'stall' || stalls++ === 0);
    if (hit && mode === 'status500') {
      damaged.push(m[1]!);
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}\n');
      return;
    }
    const up = http.request({ host: uhost, port: uport, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      // a client that goes away (killed mid-blob) must not leave the upstream response paused
      // half-read: its socket would keep this test process alive after the tests
      res.on('close', () => ur.destroy());
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, ur.headers);
      if (!hit || (ur.statusCode ?? 0) >= 300) {
        ur.pipe(res);
        return;
      }
      damaged.push(m[1]!);
      const len = Number(ur.headers['content-length'] ?? NaN);
      const at = Number.isFinite(len) && len > 0 ? Math.floor(len * (mode === 'stall' ? (o.stallAt ?? 0.5) : 0.5)) : 0;
      let seen = 0;
      if (mode === 'stall') {
        // send `at` bytes, hold the rest (in memory: fixture blobs are small) until release()
        const held: Buffer[] = [];
        let holding = true;
        let upstreamEnded = false;
        releases.push(() => {
          holding = false;
          for (const b of held.splice(0)) res.write(b);
          if (upstreamEnded) res.end();
        });
        if (at === 0) {
          res.flushHeaders();
          markStalled();
        }
        ur.on('data', (c: Buffer) => {
          if (!holding) {
            res.write(c);
            return;
          }
          if (seen < at) {
            const part = c.subarray(0, at - seen);
            seen += part.length;
            res.write(part);
            c = c.subarray(part.length);
            if (seen >= at) markStalled();
          }
          if (c.length) held.push(c);
        });
        ur.on('end', () => {
          upstreamEnded = true;
          if (!holding) res.end();
        });
        return;
      }
      ur.on('data', (c: Buffer) => {
        if (mode === 'truncate' && Number.isFinite(len) && seen + c.length > at) {
          res.write(c.subarray(0, Math.max(0, at - seen)));
          seen = at;
          ur.destroy();
          res.socket?.destroy();
          return;
        }
        if (mode === 'corrupt' && at >= seen && at < seen + c.length) {
          c = Buffer.from(c);
          c[at - seen]! ^= 0xff;
        }
        seen += c.length;
        res.write(c);
      });
      ur.on('end', () => res.end());
    });
    upstreamRequests.add(up);
    up.on('close', () => upstreamRequests.delete(up));
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    addr: `127.0.0.1:${port}`,
    damaged,
    requests,
    stalled,
    release: () => {
      for (const r of releases.splice(0)) r();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const u of upstreamRequests) u.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An address where nothing listens (a registry that is down): a port bound and released again. */
export async function deadRegistry(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `127.0.0.1:${port}`;
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}

// ---- what a test leaves on the host (the machine is shared: tests look only at their own) ----------

/** Processes whose command line (NULs as spaces) satisfies `match`, as "PID CMDLINE". */
export function processes(match: (cmdline: string) => boolean): string[] {
  const out: string[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (match(cmd)) out.push(`${p} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Poll `fn` every 50 ms until it gives a value (not undefined/false); fail after `ms`. A bounded wait for a state, not a timing assertion. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
