/**
 * The Engine API service (`skiff system service`) for tests that drive it with real clients: start
 * one on a store's socket, wait for its `_ping`, raw exchanges on the socket, and running a client
 * command (`docker`, `python3`) with a bound run time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { SKIFF_BIN, tempStore, until, type RunResult, type TempStore } from './fixtures.js';

export interface Service {
  child: ChildProcess;
  sock: string;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** `skiff system service ARGS` on the store's default socket, once it answers `/_ping`. */
export async function startService(store: TempStore, args: string[] = ['--time', '0']): Promise<Service> {
  const child = spawn(SKIFF_BIN, ['system', 'service', ...args], { env: { ...process.env, ...store.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const sock = path.join(store.runroot, 'docker.sock');
  const svc = { child, sock, exited, stderr: () => err };
  try {
    await until('the API socket', async () => {
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${err}`);
      return ping(sock);
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return svc;
}

export function ping(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection({ path: sock });
    c.once('connect', () => {
      c.end('GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    });
    let got = '';
    c.on('data', (d) => (got += d.toString()));
    c.once('close', () => resolve(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nOK$/.test(got)));
    c.once('error', () => resolve(false));
  });
}

/** One raw exchange on the socket: what the service answered (status line, headers, body). */
export function raw(sock: string, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection({ path: sock });
    let got = '';
    c.once('connect', () => c.end(request));
    c.on('data', (d) => (got += d.toString()));
    c.once('close', () => resolve(got));
    c.once('error', reject);
  });
}

/** A client command; one that hangs is killed after two minutes (it then fails with signal SIGTERM). */
export function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    // a client that exits before reading its stdin (a failing `docker build`) makes the write EPIPE: its result tells
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** A service on a fresh store and the `docker` CLI pointed at it (DOCKER_HOST, a DOCKER_CONFIG of the store's). */
export interface ServiceSession {
  store: TempStore;
  svc: Service;
  env: Record<string, string>;
  docker(args: string[], input?: string): Promise<RunResult>;
  /** the service killed if it still runs, the store removed */
  close(): Promise<void>;
}

export async function openSession(): Promise<ServiceSession> {
  const store = await tempStore();
  const svc = await startService(store);
  const env = { DOCKER_HOST: `unix://${svc.sock}`, DOCKER_CONFIG: path.join(store.home, '.docker') };
  return {
    store, svc, env,
    docker: (args, input) => run('docker', args, env, input),
    close: async () => {
      if (svc.child.exitCode === null) svc.child.kill('SIGKILL');
      await store.cleanup();
    },
  };
}
