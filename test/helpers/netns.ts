/**
 * Network namespaces for the network tests, made the way a container's is (a process in a new
 * namespace: `unshare -n`, rootless `unshare -Urn`), commands in them through nsenter, and what
 * networking can leave on the host: links, nf_tables tables, processes. Only the test's own names
 * are looked at (the machine is shared). Traffic goes to loopback and the test's own addresses only.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRootless, until } from './fixtures.js';

export interface Netns {
  pid: number;
  /** run a command inside (rootless: also inside its user namespace) */
  exec(cmd: string[], timeoutMs?: number): { code: number | null; stdout: string; stderr: string };
  /** start a command inside (stdio ignored unless given) */
  spawn(cmd: string[], stdio?: StdioOptions): ChildProcess;
  close(): Promise<void>;
}

export async function makeNetns(): Promise<Netns> {
  const holder = spawn('unshare', isRootless() ? ['-Urn', 'sleep', '3600'] : ['-n', 'sleep', '3600'], { stdio: 'ignore' });
  const pid = holder.pid!;
  // wait until the sleep runs in its own namespace (unshare exec'd it)
  await until('the namespace', () => {
    try {
      return fs.readlinkSync(`/proc/${pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net');
    } catch {
      return false;
    }
  }, 10_000);
  const enter = ['-t', String(pid), '-n', ...(isRootless() ? ['-U', '--preserve-credentials'] : [])];
  const children: ChildProcess[] = [];
  const ns: Netns = {
    pid,
    exec(cmd, timeoutMs = 20_000) {
      const r = spawnSync('nsenter', [...enter, ...cmd], { encoding: 'utf8', timeout: timeoutMs });
      return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    spawn(cmd, stdio = 'ignore') {
      const c = spawn('nsenter', [...enter, ...cmd], { stdio });
      children.push(c);
      return c;
    },
    async close() {
      for (const c of [...children, holder]) {
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGKILL');
          await new Promise((r) => c.once('close', r));
        }
      }
    },
  };
  ns.exec(['ip', 'link', 'set', 'lo', 'up']);
  return ns;
}

/** busybox httpd serving `text` as / on `port` inside the namespace; resolves once it listens. */
export async function httpdIn(ns: Netns, dir: string, text: string, port = 80): Promise<ChildProcess> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/index.html`, text);
  fs.chmodSync(dir, 0o755);
  const c = ns.spawn(['busybox', 'httpd', '-f', '-p', String(port), '-h', dir]);
  const listening = new RegExp(`:${port.toString(16).toUpperCase().padStart(4, '0')} [0-9A-F]+:[0-9A-F]{4} 0A `);
  // busybox httpd listens on [::] (dual stack) when the namespace has IPv6, else on 0.0.0.0
  await until('httpd to listen', () => listening.test(ns.exec(['cat', '/proc/net/tcp', '/proc/net/tcp6']).stdout), 10_000);
  return c;
}

/** GET url from this process; the body, or the error's code ("ECONNREFUSED", "ETIMEDOUT"). */
export function fetchText(url: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/**
 * curl inside the namespace: the body, or "curl exit N". Asynchronous: a server of this process
 * (hostServer) must keep answering meanwhile.
 */
export function curlIn(ns: Netns, url: string, timeoutS = 3): Promise<string> {
  const c = ns.spawn(['curl', '-s', '--noproxy', '*', '-m', String(timeoutS), url], ['ignore', 'pipe', 'ignore']);
  let out = '';
  c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) => c.once('close', (code) => resolve(code === 0 ? out : `curl exit ${code}`)));
}

/** An HTTP server on the host at addr (port 0: any), answering `text`. */
export async function hostServer(addr: string, text: string): Promise<{ port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const srv = http.createServer((_req, res) => {
    hits++;
    res.end(text);
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, addr, () => resolve());
  });
  return {
    port: (srv.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

/** Links of the host whose names are among `names`. */
export function hostLinks(names: string[]): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && names.includes(n));
}

/** nf_tables tables of the host among `names` (family ip). */
export function hostTables(names: string[]): string[] {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => /^table ip (\S+)$/.exec(l.trim())?.[1])
    .filter((n): n is string => n !== undefined && names.includes(n));
}

/** Is a TCP port on 127.0.0.1 free to bind now? */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const srv = http.createServer();
  return new Promise((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port of 127.0.0.1 that is free now. */
export async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
