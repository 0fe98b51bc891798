/**
 * `create` (and the first half of `run`): turn user options and the image config into a
 * container record and a ready bundle (spec, rootfs mountpoint, upper/work dirs, hosts files).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { readImageConfig } from '../image/local.js';
import { ensureImage } from '../image/ensure.js';
import type { ImageConfig } from '../oci/media.js';
import { diffDir } from '../store/layers.js';
import {
  containerFiles, createContainerDir, type ContainerRecord, type HealthConfig, type LogConfig, type MountPoint,
  type RestartPolicy,
} from '../store/containers.js';
import { parseGoDuration } from '../lib/duration.js';
import { volumeDir } from '../store/layout.js';
import { generateName, NAME_RE, newContainerId } from './names.js';
import { checkContainerName, checkHostname, refuseNul } from './validate.js';
import { goQuote } from '../lib/strconv.js';
import { readLayeredFile, resolveUser } from './passwd.js';
import { parseSecurityOpts, securityPaths } from './security.js';
import { planCgroups } from './cgroup.js';
import { parseDevice, resolveDevices } from './devices.js';
import { parseSignal } from './signals.js';
import { buildSpec } from './spec.js';
import { reapAbandoned } from './lifecycle.js';
import { parseSize } from '../lib/units.js';

export interface CreateOptions {
  image: string;
  command: string[];
  name?: string;
  /** --entrypoint (one word; "" resets the image's), or the Engine API's list ([""] resets too) */
  entrypoint?: string | string[];
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

/**
 * The user's environment (Docker's opts.ParseEnvFile and ValidateEnv): the --env-file lines, then the
 * -e values, in order; `NAME` alone takes the host's value (left out when the host has none).
 */
export function userEnv(envFiles: string[], flags: string[]): string[] {
  const out: string[] = [];
  const put = (kv: string): void => {
    if (kv.includes('=')) out.push(kv);
    else if (process.env[kv] !== undefined) out.push(`${kv}=${process.env[kv]}`);
  };
  for (const file of envFiles) {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new SkiffError('EINVAL', `cannot read env file ${file}: ${(e as Error).message}`);
    }
    // Docker's rules (opts.ParseEnvFile): a BOM dropped, leading whitespace trimmed, # comments and
    // blank lines skipped, the value passed through verbatim, a name must have no whitespace
    const lines = splitLines(data);
    lines.forEach((bytes, i) => {
      if (!isUtf8(bytes)) throw new SkiffError('EINVAL', `env file ${file} contains invalid utf8 bytes at line ${i + 1}: [${[...bytes].join(' ')}]`);
      const l = bytes.toString('utf8').replace(i === 0 ? /^\ufeff/ : /^$/, '').replace(/\r$/, '').replace(/^\s+/, '');
      if (!l || l.startsWith('#')) return;
      const eq = l.indexOf('=');
      const name = eq < 0 ? l : l.slice(0, eq);
      if (!name) throw new SkiffError('EINVAL', `poorly formatted environment: no variable name on line '${l}'`);
      if (/\s/.test(name)) throw new SkiffError('EINVAL', `poorly formatted environment: variable '${name}' contains whitespaces`);
      if (l.includes('\0')) throw new SkiffError('EINVAL', `invalid environment variable ${goQuote(l)} in ${file} (line ${i + 1}): it contains a NUL byte`);
      put(l);
    });
  }
  for (const e of flags) {
    if (e.indexOf('=') === 0 || e === '') throw new SkiffError('EINVAL', `invalid environment variable: ${e}`);
    put(e);
  }
  return out;
}

function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let start = 0; start < data.length; ) {
    const nl = data.indexOf(10, start);
    const end = nl < 0 ? data.length : nl;
    out.push(data.subarray(start, end));
    start = end + 1;
  }
  return out;
}

/**
 * Docker's env merge: the image's env, then the user's (userEnv) replacing values in place. An image's
 * entry is taken as it is: only the user's own `NAME` reads the host's environment.
 */
export function mergeEnvEntries(imageEnv: string[], user: string[]): string[] {
  const m = new Map<string, string>();
  for (const kv of [...imageEnv, ...user]) {
    const eq = kv.indexOf('=');
    m.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...m.values()];
}

/** Docker's env merge of the image env, --env-file and -e. */
export function mergeEnv(imageEnv: string[], envFiles: string[], flags: string[]): string[] {
  return mergeEnvEntries(imageEnv, userEnv(envFiles, flags));
}

// Docker's -v modes (daemon/volume/mounts: linuxValidMountMode): each kind at most once.
const MODE_KINDS: ReadonlySet<string>[] = [
  new Set(['rw', 'ro']),
  new Set(['z', 'Z']),
  new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']),
  new Set(['nocopy']),
  new Set(['consistent', 'cached', 'delegated']),
];

function validMode(mode: string): boolean {
  if (mode === '') return true;
  const seen = MODE_KINDS.map(() => 0);
  for (const o of mode.split(',')) {
    const k = MODE_KINDS.findIndex((set) => set.has(o));
    if (k < 0 || ++seen[k]! > 1) return false;
  }
  return true;
}

/** Go's path.Clean for an absolute path ("/x/" and "/y/../x" are "/x"). */
const cleanPath = (p: string): string => path.posix.normalize(p).replace(/(.)\/+$/, '$1');

/** Docker's checks of a mount's target (validateMountConfigImpl), `what` prefixing the message. */
function checkTarget(dst: string, type: string, what: string): string {
  const err = (why: string): SkiffError => new SkiffError('EINVAL', `${what}invalid mount config for type "${type}": ${why}`);
  if (!dst.startsWith('/')) throw err(`invalid mount path: '${dst}' mount path must be absolute`);
  const clean = cleanPath(dst);
  if (clean === '/') throw err("invalid specification: destination can't be '/'");
  return clean;
}

/** `-v`: Docker's CLI (volumespec.Parse) and daemon (ParseMountRaw) rules and words. */
function parseVolume(v: string): MountPoint {
  if (v === '') throw new SkiffError('EINVAL', 'invalid empty volume spec');
  const parts = v.split(':');
  if (parts.some((p) => p === '')) throw new SkiffError('EINVAL', `invalid spec: ${v}: empty section between colons`);
  if (parts.length > 3) throw new SkiffError('EINVAL', `invalid spec: ${v}: too many colons`);
  const what = `invalid volume specification: '${v}': `;
  if (parts.length === 1) {
    return { Type: 'volume', Source: '', Destination: checkTarget(v, 'volume', what), Mode: '', RW: true, Propagation: '' };
  }
  const [src, dst, mode = ''] = parts as [string, string, string?];
  // "/foo:rw" is a target with a mode, which a volume cannot have
  if (parts.length === 2 && validMode(dst)) throw new SkiffError('EINVAL', `invalid volume specification: '${v}'`);
  if (!validMode(mode)) throw new SkiffError('EINVAL', `invalid mode: ${mode}`);
  const isPath = src.startsWith('/') || src.startsWith('.');
  const o = mode.split(',');
  return {
    Type: isPath ? 'bind' : 'volume',
    Source: isPath ? path.resolve(src) : src,
    Destination: checkTarget(dst, isPath ? 'bind' : 'volume', what),
    Mode: mode,
    RW: !o.includes('ro'),
    Propagation: o.find((x) => /^r?(shared|slave|private)$/.test(x)) ?? '',
  };
}

/** `-v SRC:DST[:OPTS]`, `--mount type=...,src=...,dst=...`, `--tmpfs DST[:OPTS]`. */
export function parseMounts(volumes: string[], mounts: string[], tmpfs: string[]): MountPoint[] {
  const out: MountPoint[] = volumes.map(parseVolume);
  for (const spec of mounts) {
    const kv = new Map<string, string>();
    for (const part of spec.split(',')) {
      const [k, val] = part.split('=', 2) as [string, string?];
      kv.set(k.trim(), val ?? 'true');
    }
    const type = kv.get('type') ?? 'volume';
    const raw = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
    if (!raw) throw new SkiffError('EINVAL', `invalid --mount '${spec}': target is required`);
    const dst = checkTarget(raw, type, '');
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
    const [raw, opts = ''] = t.split(':', 2) as [string, string?];
    out.push({ Type: 'tmpfs', Source: '', Destination: checkTarget(raw, 'tmpfs', ''), Mode: opts, RW: true, Propagation: '' });
  }
  // one mount per destination, whichever flags name it (Docker's daemon: registerMountPoints)
  const seen = new Set<string>();
  for (const mp of out) {
    if (seen.has(mp.Destination)) throw new SkiffError('EINVAL', `Duplicate mount point: ${mp.Destination}`);
    seen.add(mp.Destination);
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
      throw new SkiffError('EINVAL', `invalid mount config for type "bind": bind source path does not exist: ${mp.Source}`);
    }
  }
  return out;
}

/** `--label k=v` (Docker's opts.ValidateLabel: a name, without spaces or tabs). */
export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const eq = l.indexOf('=');
    const key = (eq < 0 ? l : l.slice(0, eq)).replace(/^[ \t]+/, '');
    if (key === '') throw new SkiffError('EINVAL', `invalid label '${l}': empty name`);
    if (/[ \t]/.test(key)) throw new SkiffError('EINVAL', `label '${key}' contains whitespaces`);
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

/** A given entrypoint as a list: "" and [""] reset the image's (empty). */
function givenEntrypoint(e: string | string[]): string[] {
  const list = typeof e === 'string' ? [e] : e;
  return list.length === 1 && list[0] === '' ? [] : list;
}

const nullIfEmpty = (l: string[]): string[] | null => (l.length ? l : null);

/** Docker's ENTRYPOINT/CMD rule: --entrypoint resets the image CMD; a given command replaces CMD. */
export function resolveCommand(cfg: ImageConfig['config'], entrypoint: string | string[] | undefined, command: string[]): string[] {
  const ep = entrypoint !== undefined ? givenEntrypoint(entrypoint) : (cfg?.Entrypoint ?? []);
  const cmd = command.length ? command : entrypoint !== undefined ? [] : (cfg?.Cmd ?? []);
  return [...ep, ...cmd];
}

export interface Created {
  rec: ContainerRecord;
}

export async function createContainer(o: CreateOptions): Promise<ContainerRecord> {
  // everything the user gave is checked before the image is pulled and before anything is created
  if (o.name !== undefined) checkContainerName(o.name);
  if (o.hostname !== undefined) checkHostname(o.hostname);
  const security = parseSecurityOpts(o.securityOpt);
  const restart = parseRestartPolicy(o.restart);
  if (o.rm && restart.Name !== 'no') throw new SkiffError('EINVAL', 'Conflicting options: --restart and --rm');
  const logConfig = parseLogConfig(o.logDriver, o.logOpts);
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);
  const network = o.network === 'default' || o.network === 'bridge' || o.network === '' ? 'bridge' : o.network;
  if (!['bridge', 'none', 'host'].includes(network)) {
    throw new SkiffError('EINVAL', `network ${network} not found: only bridge (private loopback), none and host are supported`);
  }
  const mounts = parseMounts(o.volumes, o.mounts, o.tmpfs);
  const labels = parseLabels(o.labels);
  const givenEnv = userEnv(o.envFile, o.env);
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
  const workdir = o.workdir ?? icfg.WorkingDir ?? '';
  if (workdir !== '' && !workdir.startsWith('/')) {
    throw new SkiffError('EINVAL', `the working directory '${workdir}' is invalid, it needs to be an absolute path`);
  }
  const userSpec = o.user ?? icfg.User ?? '';
  const user = resolveUser(userSpec, (p) => readLayeredFile(diffsTopFirst, p));
  // volumes live in the store (volumes/<name>/_data, made below); an anonymous one goes with a --rm container
  const anonymousVolumes: string[] = [];
  for (const mp of mounts) {
    if (mp.Type !== 'volume') continue;
    const vname = mp.Source || newContainerId();
    if (!mp.Source) anonymousVolumes.push(volumeDir(vname));
    Object.assign(mp, { Name: vname, Driver: 'local', Source: path.join(volumeDir(vname), '_data') });
  }
  let env = mergeEnvEntries(icfg.Env ?? [], givenEnv);
  if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
  env = [...env.filter((e) => !e.startsWith('HOSTNAME=')), `HOSTNAME=${hostname}`];
  if (o.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
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
      WorkingDir: workdir,
      Entrypoint: o.entrypoint !== undefined ? nullIfEmpty(givenEntrypoint(o.entrypoint)) : (icfg.Entrypoint ?? null),
      Labels: { ...(icfg.Labels ?? {}), ...labels },
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
  // the image's config is not ours either: a NUL anywhere would fail the start after the container exists
  refuseNul({ record: rec, spec });
  const f = containerFiles(id);
  const madeVolumes: string[] = [];
  try {
    for (const mp of mounts) {
      if (mp.Type !== 'volume') continue;
      const made = await fsp.mkdir(mp.Source, { recursive: true });
      if (made !== undefined && made !== mp.Source) madeVolumes.push(path.dirname(mp.Source));
    }
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
    }, o.name === undefined ? () => generateName(++attempts) : undefined, reapAbandoned);
  } catch (e) {
    // volumes this create made (named ones too: Docker creates them with the container) go with it
    for (const v of madeVolumes) await fsp.rm(v, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
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
