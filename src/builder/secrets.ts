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

/**
 * `--ssh default|ID[=SOCKET]`: the agent socket by id (`default` without a path is $SSH_AUTH_SOCK).
 * Only agent sockets are taken: a key file would need skiff to be an agent itself.
 */
export function loadSshAgents(flags: string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const out = new Map<string, string>();
  for (const flag of flags) {
    const i = flag.indexOf('=');
    const id = i < 0 ? flag : flag.slice(0, i);
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new SkiffError('EINVAL', `invalid --ssh ${flag}: expected default|ID[=SOCKET]`);
    const paths = i < 0 ? [] : flag.slice(i + 1).split(',').filter(Boolean);
    if (paths.length > 1) throw new SkiffError('EINVAL', `invalid --ssh ${flag}: skiff forwards one agent socket per id`);
    const sock = paths[0] ?? env.SSH_AUTH_SOCK ?? '';
    if (!sock) throw new SkiffError('EINVAL', `--ssh ${flag}: no agent socket given and SSH_AUTH_SOCK is not set: start ssh-agent or give ID=SOCKET`);
    let st: fs.Stats;
    try {
      st = fs.statSync(sock);
    } catch {
      throw new SkiffError('EINVAL', `--ssh ${flag}: ${sock}: no such socket`);
    }
    if (!st.isSocket()) {
      throw new SkiffError('EINVAL', `--ssh ${flag}: ${sock} is not an agent socket (key files are not supported: load the key with ssh-add and pass the agent's socket)`);
    }
    out.set(id, sock);
  }
  return out;
}

/** A socket at `path` relaying every connection to `agent` until `close()`. */
export async function agentProxy(path: string, agent: string, o: { mode: number; uid: number; gid: number }): Promise<{ close: () => Promise<void> }> {
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
    server.listen(path, () => resolve());
  });
  await fsp.chmod(path, o.mode);
  await fsp.chown(path, o.uid, o.gid);
  return {
    close: () => new Promise<void>((resolve) => {
      for (const c of conns) c.destroy();
      server.close(() => resolve());
    }),
  };
}
