/**
 * Build secrets and SSH agents (`--secret`, `--ssh`; `RUN --mount=type=secret|ssh`).
 *
 * A secret's bytes are read once when the build starts and kept in memory: a RUN step that mounts
 * it gets a copy in its own step directory (removed with the step) bound read-only at the target,
 * or an environment variable of that run only. Neither the bytes nor the variable enter the step's
 * cache key, its history or the build log: the key holds the secret's id and where it is mounted.
 *
 * An SSH agent is forwarded by a proxy socket in the step directory: it accepts connections only
 * while the step runs and relays each to the agent's socket, so the step sees the agent (with the
 * socket mode and owner the mount asks for) and nothing is left to reach it once the step ended.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { SkiffError } from '../errors.js';

/** `--secret id=ID[,src=FILE|env=VAR][,type=file|env]`: the secret's bytes by id. */
export function loadSecrets(flags: string[], env: NodeJS.ProcessEnv = process.env): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const flag of flags) {
    let id = '';
    let src = '';
    let fromEnv = '';
    let type = '';
    for (const field of flag.split(',')) {
      const i = field.indexOf('=');
      const key = (i < 0 ? field : field.slice(0, i)).trim().toLowerCase();
      const value = i < 0 ? '' : field.slice(i + 1);
      if (key === 'id') id = value;
      else if (key === 'src' || key === 'source') src = value;
      else if (key === 'env') fromEnv = value;
      else if (key === 'type') {
        if (value !== 'file' && value !== 'env') throw new SkiffError('EINVAL', `invalid --secret ${flag}: unsupported secret type "${value}" (file or env)`);
        type = value;
      } else throw new SkiffError('EINVAL', `invalid --secret ${flag}: unexpected key "${key}" (id, src, env, type)`);
    }
    if (type === 'env' && !fromEnv) [fromEnv, src] = [src, ''];
    if (!id) id = src || fromEnv;
    if (!id) throw new SkiffError('EINVAL', `invalid --secret ${flag}: id is required (id=ID,src=FILE or id=ID,env=VAR)`);
    if (src && fromEnv) throw new SkiffError('EINVAL', `invalid --secret ${flag}: give src or env, not both`);
    // neither: the variable named ID when it is set, else the file named ID (as BuildKit)
    if (!src && !fromEnv) {
      if (type !== 'file' && env[id] !== undefined) fromEnv = id;
      else src = id;
    }
    if (fromEnv) {
      const v = env[fromEnv];
      if (v === undefined) throw new SkiffError('EINVAL', `secret "${id}": environment variable ${fromEnv} is not set`);
      out.set(id, Buffer.from(v));
      continue;
    }
    try {
      out.set(id, fs.readFileSync(src));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
      throw new SkiffError('EINVAL', `secret "${id}": cannot read ${src}: ${why}`);
    }
  }
  return out;
}

/** Where an `--ssh` id's agent comes from: a running agent's socket, or key files skiff loads into an agent of its own. */
export type SshSource = { socket: string } | { keys: string[] };

/**
 * `--ssh default|ID[=SOCKET|KEY[,KEY...]]`: each id's agent (`default` without a path is
 * $SSH_AUTH_SOCK). A path is either one agent socket or private key files (BuildKit's rule).
 */
export function loadSshAgents(flags: string[], env: NodeJS.ProcessEnv = process.env): Map<string, SshSource> {
  const out = new Map<string, SshSource>();
  for (const flag of flags) {
    const i = flag.indexOf('=');
    const id = i < 0 ? flag : flag.slice(0, i);
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new SkiffError('EINVAL', `invalid --ssh ${flag}: expected default|ID[=SOCKET|KEY[,KEY...]]`);
    const paths = i < 0 ? [] : flag.slice(i + 1).split(',').filter(Boolean);
    if (paths.length === 0) {
      if (!env.SSH_AUTH_SOCK) throw new SkiffError('EINVAL', `--ssh ${flag}: no agent socket given and SSH_AUTH_SOCK is not set: start ssh-agent or give ID=SOCKET or ID=KEYFILE`);
      paths.push(env.SSH_AUTH_SOCK);
    }
    const sockets: string[] = [];
    const keys: string[] = [];
    for (const p of paths) {
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        throw new SkiffError('EINVAL', `--ssh ${flag}: ${p}: no such socket or key file`);
      }
      if (st.isSocket()) sockets.push(p);
      else if (st.isFile()) {
        try {
          fs.accessSync(p, fs.constants.R_OK);
        } catch {
          throw new SkiffError('EINVAL', `--ssh ${flag}: cannot read key file ${p}: permission denied`);
        }
        keys.push(p);
      } else throw new SkiffError('EINVAL', `--ssh ${flag}: ${p} is neither an agent socket nor a key file`);
    }
    if (sockets.length && (sockets.length > 1 || keys.length)) throw new SkiffError('EINVAL', `invalid --ssh ${flag}: give one agent socket or key files, not both`);
    out.set(id, sockets.length ? { socket: sockets[0]! } : { keys });
  }
  return out;
}

/** The build's agents: each id's socket, with the agents skiff started for key files (stopped by `close`). */
export interface SshAgents {
  sockets: Map<string, string>;
  close(): Promise<void>;
}

/**
 * Sockets for the sources: an agent socket as given; key files go into an `ssh-agent` skiff starts
 * for this build (OpenSSH's, with `ssh-add`), in a private directory, stopped and removed by
 * `close`. The agent watches the process that started it (ssh-agent's own rule when given a command:
 * here a `cat` on a pipe from skiff), so it also goes within seconds if skiff is killed.
 */
export async function startSshAgents(sources: Map<string, SshSource>): Promise<SshAgents> {
  const sockets = new Map<string, string>();
  const stops: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    for (const [id, src] of sources) {
      if ('socket' in src) sockets.set(id, src.socket);
      else {
        const agent = await keyAgent(id, src.keys, stops);
        sockets.set(id, agent);
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { sockets, close };
}

async function keyAgent(id: string, keys: string[], stops: (() => Promise<void>)[]): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'skiff-ssh-'));
  stops.push(() => fsp.rm(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 'agent.sock');
  const env = { ...process.env, SSH_AUTH_SOCK: sock };
  const child = spawn('ssh-agent', ['-a', sock, 'sh', '-c', 'echo "$SSH_AGENT_PID"; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let agentPid = 0;
  stops.push(async () => {
    if (agentPid > 0) {
      try {
        process.kill(agentPid, 'SIGTERM');
      } catch { /* already gone */ }
    }
    child.stdin?.end();
    await gone;
  });
  const started = await new Promise<string>((resolve) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out);
    });
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'ENOENT' : `error: ${e.message}`));
    child.once('close', () => resolve(`error: ${err.trim() || 'ssh-agent exited'}`));
  });
  if (started === 'ENOENT') throw new SkiffError('EINVAL', `--ssh ${id}=${keys.join(',')}: key files need OpenSSH's ssh-agent and ssh-add: install openssh-client, or pass an agent's socket`);
  agentPid = Number(started.trim());
  if (!Number.isInteger(agentPid) || agentPid <= 0) throw new SkiffError('EINVAL', `--ssh ${id}: cannot start ssh-agent: ${started.replace(/^error: /, '').trim()}`);
  for (const key of keys) {
    const add = await new Promise<{ code: number | null; err: string }>((resolve) => {
      // in a session of its own: no terminal to ask a passphrase on (a build is no place for a prompt)
      const p = spawn('ssh-add', [key], { stdio: ['ignore', 'ignore', 'pipe'], env, detached: true });
      let err = '';
      p.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
      p.once('error', (e) => resolve({ code: null, err: e.message }));
      p.once('close', (code) => resolve({ code, err }));
    });
    if (add.code !== 0) {
      const why = /passphrase/i.test(add.err)
        ? 'the key is protected by a passphrase: add it to your ssh-agent with ssh-add and pass the agent (--ssh ID or ID=SOCKET)'
        : add.err.trim().split('\n').pop() || 'ssh-add failed';
      throw new SkiffError('EINVAL', `--ssh ${id}: cannot load key ${key} into an agent: ${why}`);
    }
  }
  return sock;
}

/** A socket at `at` relaying every connection to `agent` until `close()`. */
export async function agentProxy(at: string, agent: string, o: { mode: number; uid: number; gid: number }): Promise<{ close: () => Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((c) => {
    conns.add(c);
    const up = net.connect(agent);
    const drop = (): void => {
      c.destroy();
      up.destroy();
      conns.delete(c);
    };
    c.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    c.pipe(up);
    up.pipe(c);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at, () => resolve());
  });
  await fsp.chmod(at, o.mode);
  await fsp.chown(at, o.uid, o.gid);
  return {
    close: () => new Promise<void>((resolve) => {
      for (const c of conns) c.destroy();
      server.close(() => resolve());
    }),
  };
}
