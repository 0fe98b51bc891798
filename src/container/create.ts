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
  containerFiles, createContainerDir, type ContainerRecord, type HealthConfig, type LogConfig, type MountPoint,
  type RestartPolicy,
} from '../store/containers.js';
import { parseGoDuration } from '../image/filters.js';
import { volumeDir } from '../store/layout.js';
import { generateName, NAME_RE, newContainerId } from './names.js';
import { readLayeredFile, resolveUser } from './passwd.js';
import { parseSecurityOpts, securityPaths } from './security.js';
import { planCgroups } from './cgroup.js';
import { parseDevice, resolveDevices } from './devices.js';
import { parseSignal } from './signals.js';
import { buildSpec } from './spec.js';
import { parseSize } from '../cli/output/units.js';

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
  /** --device HOST[:CONTAINER[:PERMS]] */
  devices: string[];
  /** --device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS' */
  deviceCgroupRules: string[];
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  readOnly: boolean;
  init: boolean;
  labels: string[];
  pull: 'missing' | 'always' | 'never';
  platform?: string;
  /** --restart (Docker's syntax: no, on-failure[:N], always, unless-stopped) */
  restart?: string;
  logDriver?: string;
  logOpts: string[];
  health: HealthOptions;
  stopSignal?: string;
  stopTimeout?: number;
}

/** --health-* and --no-healthcheck as given (durations as Go duration strings). */
export interface HealthOptions {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
  none: boolean;
}

const RESTART_NAMES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;

/** Docker's ParseRestartPolicy plus the daemon's checks (same messages). */
export function parseRestartPolicy(v: string | undefined): RestartPolicy {
  if (v === undefined || v === '') return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count, extra] = v.split(':');
  if (extra !== undefined) throw new SkiffError('EINVAL', `invalid restart policy format: maximum retry count must be an integer`);
  if (!(RESTART_NAMES as readonly string[]).includes(name!)) {
    throw new SkiffError('EINVAL', `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  let max = 0;
  if (count !== undefined) {
    if (!/^-?\d+$/.test(count)) throw new SkiffError('EINVAL', 'invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
    if (name !== 'on-failure') throw new SkiffError('EINVAL', `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if (max < 0) throw new SkiffError('EINVAL', 'invalid restart policy: maximum retry count can not be negative');
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

/** --log-driver/--log-opt: json-file (max-size, max-file) or none. */
export function parseLogConfig(driver: string | undefined, opts: string[]): LogConfig {
  const type = driver || 'json-file';
  if (type !== 'json-file' && type !== 'none') {
    throw new SkiffError('EINVAL', `log driver "${type}" is not supported: skiff writes json-file logs (or none)`);
  }
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `invalid key value pair format in logging opts: ${o}`);
    const k = o.slice(0, eq);
    const val = o.slice(eq + 1);
    if (type === 'none' || (k !== 'max-size' && k !== 'max-file')) throw new SkiffError('EINVAL', `unknown log opt '${k}' for ${type} log driver`);
    config[k] = val;
  }
  if (config['max-size'] !== undefined && parseSize(config['max-size']) <= 0) throw new SkiffError('EINVAL', `invalid size: '${config['max-size']}'`);
  if (config['max-file'] !== undefined) {
    if (!/^-?\d+$/.test(config['max-file'])) throw new SkiffError('EINVAL', `strconv.Atoi: parsing "${config['max-file']}": invalid syntax`);
    if (Number(config['max-file']) < 1) throw new SkiffError('EINVAL', 'max-file cannot be less than 1');
  }
  return { Type: type, Config: config };
}

function healthDuration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseGoDuration(v);
  if (ms === undefined) throw new SkiffError('EINVAL', `invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`);
  if (ms < 0) throw new SkiffError('EINVAL', `--${flag} cannot be negative`);
  if (ms > 0 && ms < 1) throw new SkiffError('EINVAL', `${flag.replace('health-', '')} in Healthcheck cannot be less than 1ms`);
  return Math.round(ms * 1e6);
}

/** Docker's merge: --no-healthcheck → NONE; each --health-* field over the image's HEALTHCHECK. */
export function mergeHealthcheck(image: HealthConfig | undefined, o: HealthOptions): HealthConfig | undefined {
  const given = o.cmd !== undefined || o.interval !== undefined || o.timeout !== undefined || o.startPeriod !== undefined || o.retries !== undefined;
  if (o.none) {
    if (given) throw new SkiffError('EINVAL', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (o.retries !== undefined && o.retries < 0) throw new SkiffError('EINVAL', '--health-retries cannot be negative');
  const interval = healthDuration('health-interval', o.interval);
  const timeout = healthDuration('health-timeout', o.timeout);
  const startPeriod = healthDuration('health-start-period', o.startPeriod);
  const base = image?.Test?.length ? image : undefined;
  if (!given) return base ? { ...base, Test: base.Test ?? [] } : undefined;
  const hc: HealthConfig = {
    Test: o.cmd !== undefined ? ['CMD-SHELL', o.cmd] : (base?.Test ?? []),
    ...((interval ?? base?.Interval) !== undefined ? { Interval: interval ?? base?.Interval } : {}),
    ...((timeout ?? base?.Timeout) !== undefined ? { Timeout: timeout ?? base?.Timeout } : {}),
    ...((startPeriod ?? base?.StartPeriod) !== undefined ? { StartPeriod: startPeriod ?? base?.StartPeriod } : {}),
    ...((o.retries ?? base?.Retries) !== undefined ? { Retries: o.retries ?? base?.Retries } : {}),
  };
  return hc.Test.length ? hc : undefined;
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
    // Docker's rules (opts.ParseEnvFile): a BOM dropped, leading whitespace trimmed, # comments and
    // blank lines skipped, the value passed through verbatim, a name must have no whitespace
    text.replace(/^\ufeff/, '').split('\n').forEach((line) => {
      const l = line.replace(/\r$/, '').replace(/^\s+/, '');
      if (!l || l.startsWith('#')) return;
      const eq = l.indexOf('=');
      const name = eq < 0 ? l : l.slice(0, eq);
      if (!name) throw new SkiffError('EINVAL', `poorly formatted environment: no variable name on line '${l}'`);
      if (/\s/.test(name)) throw new SkiffError('EINVAL', `poorly formatted environment: variable '${name}' contains whitespaces`);
      put(l, file);
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
    // Docker's rule for local volume names, the one for container names (so "x/../../etc" cannot leave volumes/)
    if (mp.Type === 'volume' && mp.Source && !NAME_RE.test(mp.Source)) {
      throw new SkiffError(
        'EINVAL',
        `"${mp.Source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
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
  const restart = parseRestartPolicy(o.restart);
  if (o.rm && restart.Name !== 'no') throw new SkiffError('EINVAL', 'Conflicting options: --restart and --rm');
  const logConfig = parseLogConfig(o.logDriver, o.logOpts);
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);
  // validated and looked up before anything is made (Docker ignores both with --privileged)
  const devices = o.privileged ? undefined : resolveDevices(o.devices, o.deviceCgroupRules);
  const { record: image, name: imageName } = await ensureImage(o.image, { pull: o.pull, platform: o.platform });
  const config = await readImageConfig(image);
  const icfg = config.config ?? {};
  const healthcheck = mergeHealthcheck(icfg.Healthcheck as HealthConfig | undefined, o.health);
  const argv = resolveCommand(icfg, o.entrypoint, o.command);
  if (argv.length === 0) throw new SkiffError('EINVAL', 'no command specified');
  const id = newContainerId();
  let attempts = 0;
  const hostname = o.hostname ?? id.slice(0, 12);
  const chainIds = image.layers.map((l) => l.chainId);
  const diffsTopFirst = chainIds.map(diffDir).reverse();
  const userSpec = o.user ?? icfg.User ?? '';
  const user = resolveUser(userSpec, (p) => readLayeredFile(diffsTopFirst, p));
  const mounts = parseMounts(o.volumes, o.mounts, o.tmpfs);
  // volumes live in the store (volumes/<name>/_data); an anonymous one goes with a --rm container
  const anonymousVolumes: string[] = [];
  for (const mp of mounts) {
    if (mp.Type !== 'volume') continue;
    const vname = mp.Source || newContainerId();
    if (!mp.Source) anonymousVolumes.push(volumeDir(vname));
    Object.assign(mp, { Name: vname, Driver: 'local', Source: path.join(volumeDir(vname), '_data') });
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
    Name: o.name ?? generateName(), // a generated one is claimed under the lock, asked again if taken
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
      ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    },
    HostConfig: {
      Binds: o.volumes.length ? o.volumes : null,
      NetworkMode: network,
      AutoRemove: o.rm,
      Privileged: o.privileged,
      ...(o.devices.length ? { Devices: devices?.mappings ?? o.devices.map(parseDevice) } : {}),
      ...(o.deviceCgroupRules.length ? { DeviceCgroupRules: o.deviceCgroupRules } : {}),
      CapAdd: o.capAdd.length ? o.capAdd : null,
      CapDrop: o.capDrop.length ? o.capDrop : null,
      ReadonlyRootfs: o.readOnly,
      SecurityOpt: o.securityOpt.length ? o.securityOpt : null,
      Init: o.init,
      MaskedPaths: sec.maskedPaths,
      ReadonlyPaths: sec.readonlyPaths,
      Tmpfs: null,
      RestartPolicy: restart,
      LogConfig: logConfig,
    },
    Mounts: mounts,
    Rootless: paths().rootless,
    Layers: chainIds,
  };
  const cgroups = planCgroups(id, paths().rootless);
  if (cgroups.dirs.length) rec.CgroupDirs = cgroups.dirs;
  const spec = buildSpec({ rec, user, env, security, cgroups, removeWithContainer: anonymousVolumes, devices: devices?.resolved });
  const f = containerFiles(id);
  // a handful of small files in a fresh staging dir: synchronous calls, no thread-pool round trips
  await createContainerDir(rec, async (dir) => {
    const rel = (p: string): string => path.join(dir, path.relative(f.dir, p));
    fs.mkdirSync(rel(f.rootfs), { recursive: true });
    fs.mkdirSync(rel(f.upper), { mode: 0o755 });
    fs.mkdirSync(rel(f.work), { mode: 0o700 });
    fs.writeFileSync(rel(f.hostname), `${hostname}\n`, { mode: 0o644 });
    fs.writeFileSync(rel(f.hosts), hostsFile(hostname, network), { mode: 0o644 });
    fs.writeFileSync(rel(f.resolv), resolvConf(), { mode: 0o644 });
    fs.writeFileSync(rel(f.spec), JSON.stringify(spec));
  }, o.name === undefined ? () => generateName(++attempts) : undefined);
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
