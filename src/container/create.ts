/**
 * `create` (and the first half of `run`): turn user options and the image config into a
 * container record and a ready bundle (spec, rootfs mountpoint, upper/work dirs, hosts files).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { ensureImage, readImageConfig } from '../image/local.js';
import type { ImageConfig } from '../image/media.js';
import { diffDir } from '../store/layers.js';
import {
  containerFiles, createContainerDir, type ContainerRecord, type MountPoint,
} from '../store/containers.js';
import { volumeDir } from '../store/layout.js';
import { generateName, NAME_RE, newContainerId } from './names.js';
import { readLayeredFile, resolveUser } from './passwd.js';
import { parseSecurityOpts, securityPaths } from './security.js';
import { planCgroups } from './cgroup.js';
import { parseSignal } from './signals.js';
import { buildSpec } from './spec.js';

export interface CreateOptions {
  image: string;
  command: string[];
  name?: string;
  entrypoint?: string;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  tty: boolean;
  interactive: boolean;
  rm: boolean;
  volumes: string[];
  mounts: string[];
  tmpfs: string[];
  network: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  readOnly: boolean;
  init: boolean;
  labels: string[];
  pull: 'missing' | 'always' | 'never';
  platform?: string;
  stopSignal?: string;
  stopTimeout?: number;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's env merge: image env, then --env-file, then -e; `-e NAME` copies the host's value. */
export function mergeEnv(imageEnv: string[], envFiles: string[], flags: string[]): string[] {
  const m = new Map<string, string>();
  const put = (kv: string, fromFile?: string): void => {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new SkiffError('EINVAL', `invalid environment variable: ${kv}${fromFile ? ` (in ${fromFile})` : ''}`);
    if (eq < 0) {
      const v = process.env[kv];
      if (v !== undefined) m.set(kv, v);
    } else m.set(kv.slice(0, eq), kv.slice(eq + 1));
  };
  for (const e of imageEnv) put(e);
  for (const file of envFiles) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new SkiffError('EINVAL', `cannot read env file ${file}: ${(e as Error).message}`);
    }
    text.split('\n').forEach((line) => {
      const l = line.replace(/^\s+/, '');
      if (l && !l.startsWith('#')) put(l.replace(/\r$/, ''), file);
    });
  }
  for (const e of flags) put(e);
  return [...m].map(([k, v]) => `${k}=${v}`);
}

/** `-v SRC:DST[:OPTS]`, `--mount type=...,src=...,dst=...`, `--tmpfs DST[:OPTS]`. */
export function parseMounts(volumes: string[], mounts: string[], tmpfs: string[]): MountPoint[] {
  const out: MountPoint[] = [];
  for (const v of volumes) {
    const parts = v.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[1]) {
      if (parts.length === 1 && parts[0]!.startsWith('/')) {
        out.push({ Type: 'volume', Source: '', Destination: parts[0]!, Mode: '', RW: true, Propagation: '' });
        continue;
      }
      throw new SkiffError('EINVAL', `invalid volume specification: '${v}'`);
    }
    const [src, dst, opts = ''] = parts as [string, string, string?];
    if (!dst.startsWith('/')) throw new SkiffError('EINVAL', `invalid volume specification: '${v}': destination must be an absolute path`);
    const o = opts.split(',').filter(Boolean);
    const ro = o.includes('ro');
    const prop = o.find((x) => /^r?(shared|slave|private)$/.test(x)) ?? '';
    const isPath = src.startsWith('/') || src.startsWith('.');
    out.push({ Type: isPath ? 'bind' : 'volume', Source: isPath ? path.resolve(src) : src, Destination: dst, Mode: opts, RW: !ro, Propagation: prop });
  }
  for (const spec of mounts) {
    const kv = new Map<string, string>();
    for (const part of spec.split(',')) {
      const [k, val] = part.split('=', 2) as [string, string?];
      kv.set(k.trim(), val ?? 'true');
    }
    const type = kv.get('type') ?? 'volume';
    const dst = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
    if (!dst) throw new SkiffError('EINVAL', `invalid --mount '${spec}': target is required`);
    const ro = ['true', '1'].includes(kv.get('readonly') ?? kv.get('ro') ?? 'false');
    if (type === 'bind') {
      const src = kv.get('source') ?? kv.get('src');
      if (!src) throw new SkiffError('EINVAL', `invalid --mount '${spec}': source is required for a bind mount`);
      out.push({ Type: 'bind', Source: path.resolve(src), Destination: dst, Mode: '', RW: !ro, Propagation: kv.get('bind-propagation') ?? '' });
    } else if (type === 'tmpfs') {
      const size = kv.get('tmpfs-size');
      const mode = kv.get('tmpfs-mode');
      const o = [size ? `size=${size}` : '', mode ? `mode=${mode}` : ''].filter(Boolean).join(',');
      out.push({ Type: 'tmpfs', Source: '', Destination: dst, Mode: o, RW: true, Propagation: '' });
    } else if (type === 'volume') {
      out.push({ Type: 'volume', Source: kv.get('source') ?? kv.get('src') ?? '', Destination: dst, Mode: '', RW: !ro, Propagation: '' });
    } else throw new SkiffError('EINVAL', `invalid --mount '${spec}': unknown type "${type}"`);
  }
  for (const t of tmpfs) {
    const [dst, opts = ''] = t.split(':', 2) as [string, string?];
    out.push({ Type: 'tmpfs', Source: '', Destination: dst, Mode: opts, RW: true, Propagation: '' });
  }
  for (const mp of out) {
    if (mp.Type === 'bind' && !fs.existsSync(mp.Source)) {
      throw new SkiffError('EINVAL', `invalid mount config: bind source path does not exist: ${mp.Source}`);
    }
  }
  return out;
}

function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

/** Docker's ENTRYPOINT/CMD rule: --entrypoint resets the image CMD; a given command replaces CMD. */
export function resolveCommand(cfg: ImageConfig['config'], entrypoint: string | undefined, command: string[]): string[] {
  const ep = entrypoint !== undefined ? (entrypoint === '' ? [] : [entrypoint]) : (cfg?.Entrypoint ?? []);
  const cmd = command.length ? command : entrypoint !== undefined ? [] : (cfg?.Cmd ?? []);
  return [...ep, ...cmd];
}

export interface Created {
  rec: ContainerRecord;
}

export async function createContainer(o: CreateOptions): Promise<ContainerRecord> {
  if (o.name !== undefined && !NAME_RE.test(o.name)) {
    throw new SkiffError('EINVAL', `Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const security = parseSecurityOpts(o.securityOpt);
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);
  const { record: image, name: imageName } = await ensureImage(o.image, { pull: o.pull, platform: o.platform });
  const config = await readImageConfig(image);
  const icfg = config.config ?? {};
  const argv = resolveCommand(icfg, o.entrypoint, o.command);
  if (argv.length === 0) throw new SkiffError('EINVAL', 'no command specified');
  const id = newContainerId();
  let attempts = 0;
  const name = o.name ?? generateName();
  const hostname = o.hostname ?? id.slice(0, 12);
  const chainIds = image.layers.map((l) => l.chainId);
  const diffsTopFirst = chainIds.map(diffDir).reverse();
  const userSpec = o.user ?? icfg.User ?? '';
  const user = resolveUser(userSpec, (p) => readLayeredFile(diffsTopFirst, p));
  const mounts = parseMounts(o.volumes, o.mounts, o.tmpfs);
  for (const mp of mounts) {
    if (mp.Type !== 'volume') continue;
    const vname = mp.Source || newContainerId();
    mp.Source = path.join(volumeDir(vname), '_data');
    mp.Type = 'bind';
    await fsp.mkdir(mp.Source, { recursive: true });
  }
  let env = mergeEnv(icfg.Env ?? [], o.envFile, o.env);
  if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
  env = [...env.filter((e) => !e.startsWith('HOSTNAME=')), `HOSTNAME=${hostname}`];
  if (o.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  const network = o.network === 'default' || o.network === 'bridge' || o.network === '' ? 'bridge' : o.network;
  if (!['bridge', 'none', 'host'].includes(network)) {
    throw new SkiffError('EINVAL', `network ${network} not found: only bridge (private loopback), none and host are supported`);
  }
  const sec = securityPaths({ privileged: o.privileged, unmask: security.unmask, mask: security.mask });
  const rec: ContainerRecord = {
    Id: id,
    Name: name,
    Created: new Date().toISOString(),
    Path: argv[0]!,
    Args: argv.slice(1),
    Image: image.id,
    ImageName: imageName,
    Config: {
      Hostname: hostname,
      Domainname: '',
      User: userSpec,
      AttachStdin: o.interactive,
      AttachStdout: true,
      AttachStderr: true,
      Tty: o.tty,
      OpenStdin: o.interactive,
      Env: env,
      Cmd: o.command.length ? o.command : (o.entrypoint !== undefined ? null : (icfg.Cmd ?? null)),
      Image: o.image,
      Volumes: icfg.Volumes ?? null,
      WorkingDir: o.workdir ?? icfg.WorkingDir ?? '',
      Entrypoint: o.entrypoint !== undefined ? (o.entrypoint ? [o.entrypoint] : null) : (icfg.Entrypoint ?? null),
      Labels: { ...(icfg.Labels ?? {}), ...parseLabels(o.labels) },
      ...(o.stopSignal ?? icfg.StopSignal ? { StopSignal: o.stopSignal ?? icfg.StopSignal } : {}),
      ...(o.stopTimeout !== undefined ? { StopTimeout: o.stopTimeout } : {}),
    },
    HostConfig: {
      Binds: o.volumes.length ? o.volumes : null,
      NetworkMode: network,
      AutoRemove: o.rm,
      Privileged: o.privileged,
      CapAdd: o.capAdd.length ? o.capAdd : null,
      CapDrop: o.capDrop.length ? o.capDrop : null,
      ReadonlyRootfs: o.readOnly,
      SecurityOpt: o.securityOpt.length ? o.securityOpt : null,
      Init: o.init,
      MaskedPaths: sec.maskedPaths,
      ReadonlyPaths: sec.readonlyPaths,
      Tmpfs: null,
    },
    Mounts: mounts,
    Rootless: paths().rootless,
    Layers: chainIds,
  };
  const cgroups = planCgroups(id, paths().rootless);
  if (cgroups.dirs.length) rec.CgroupDirs = cgroups.dirs;
  const spec = buildSpec({ rec, user, env, security, cgroups });
  await createContainerDir(rec, async (dir) => {
    const rel = (p: string): string => path.join(dir, path.relative(containerFiles(id).dir, p));
    const f = containerFiles(id);
    await fsp.mkdir(rel(f.rootfs), { recursive: true });
    await fsp.mkdir(rel(f.upper), { mode: 0o755 });
    await fsp.mkdir(rel(f.work), { mode: 0o700 });
    await fsp.writeFile(rel(f.hostname), `${hostname}\n`, { mode: 0o644 });
    await fsp.writeFile(rel(f.hosts), hostsFile(hostname, network), { mode: 0o644 });
    await fsp.writeFile(rel(f.resolv), resolvConf(), { mode: 0o644 });
    await fsp.writeFile(rel(f.spec), JSON.stringify(spec));
  }, o.name === undefined ? () => generateName(undefined, ++attempts) : undefined);
  return rec;
}

function hostsFile(hostname: string, network: string): string {
  if (network === 'host') {
    try {
      return fs.readFileSync('/etc/hosts', 'utf8');
    } catch {
      /* fall through */
    }
  }
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`;
}

function resolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
