/**
 * `create` (and the first half of `run`): user options and the image config → a container record
 * and a ready bundle. The steps, each its own part:
 *   options   checked before anything is pulled or made (options.ts, volume/mounts.ts, validate.ts)
 *   record    buildRecord: pure, from the checked options, the image config and the resolved user
 *   mounts    src/volume/: each volume attached (made if missing, under the volumes lock) with the container
 *   network   the mode and its options recorded; the plan is made at each start (container/network.ts)
 *   spec      buildSpec (spec.ts), written with the record, hosts and resolv.conf in one staging dir
 */
import { containerEvent } from './events.js';
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { readImageConfig } from '../image/local.js';
import { ensureImage } from '../image/ensure.js';
import type { PullFn } from '../image/progress.js';
import type { ImageConfig } from '../oci/media.js';
import { diffDir } from '../store/layers.js';
import { containerFiles, createContainerDir, findContainer, type ContainerRecord, type HealthConfig, type MountPoint } from '../store/containers.js';
import { generateName, newContainerId } from './names.js';
import { checkContainerName, checkHostname, refuseNul } from './validate.js';
import { readLayeredFile, resolveGroups, resolveUser, withGroups, type ResolvedUser } from './passwd.js';
import { checkSysctlNamespaces, parseSysctls } from './sysctl.js';
import { parseSecurityOpts, securityPaths } from './security.js';
import { parseCgroupParent, planCgroups } from './cgroup.js';
import { limitWrites, parseResources, type ResourceOptions } from './resources.js';
import { parseDevice, resolveDevices } from './devices.js';
import { parseSignal } from './signals.js';
import { buildSpec } from './spec.js';
import { reapAbandoned, removeContainer } from './lifecycle.js';
import {
  DEFAULT_PATH, givenEntrypoint, mergeEnvEntries, mergeHealthcheck, parseLabels, parseLogConfig, parseRestartPolicy, resolveCommand, userEnv, userLabels,
  type HealthOptions,
} from './options.js';
import { checkNetworkOptions, type NetworkConfig, type NetworkOptions } from './network.js';
import { keepIdFiles, shiftedRoot } from './keep-id.js';
import { checkJoinedUserns, parseCgroupnsMode, parseUsernsMode, resolveSharedNamespaces, type SharedNamespaceOptions } from './namespaces.js';
import { parseMounts } from '../volume/mounts.js';
import { attachContainerVolumes, discardVolumes, type RequestedMount } from '../volume/volumes.js';

export type AttachStream = 'stdin' | 'stdout' | 'stderr';

/** Docker's Config.AttachStdin/Stdout/Stderr from -a, -i and -d (cli/command/container/opts.go, run.go). */
export function attachConfig(o: Pick<CreateOptions, 'attach' | 'interactive' | 'detach'>): { AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean } {
  if (o.detach) return { AttachStdin: false, AttachStdout: false, AttachStderr: false };
  const a = o.attach ?? [];
  return { AttachStdin: a.includes('stdin') || o.interactive, AttachStdout: !a.length || a.includes('stdout'), AttachStderr: !a.length || a.includes('stderr') };
}

/** The network options (--network, -p, --dns, ...) are NetworkOptions (container/network.ts). */
export interface CreateOptions extends NetworkOptions, SharedNamespaceOptions {
  image: string;
  command: string[];
  name?: string;
  /** the CLI's command line that made the container, from `skiff` on (Podman's Config.CreateCommand; none from the API or compose) */
  createCommand?: string[];
  /** Podman's --replace: a container that has this name already is removed (forced) first */
  replace?: boolean;
  /** --entrypoint (one word; "" resets the image's), or the Engine API's list ([""] resets too) */
  entrypoint?: string | string[];
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  tty: boolean;
  interactive: boolean;
  /** -a/--attach: the streams a foreground run shows (none given: stdout and stderr; -i adds stdin) */
  attach?: AttachStream[];
  /** run -d: Config.Attach* are all false (Docker's) */
  detach?: boolean;
  rm: boolean;
  volumes: string[];
  mounts: string[];
  tmpfs: string[];
  /** --volumes-from CONTAINER[:ro|rw] */
  volumesFrom?: string[];
  domainname?: string;
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
  /** --label-file: files of label lines, before `labels` */
  labelFile?: string[];
  pull: 'missing' | 'always' | 'never';
  platform?: string;
  /** --restart (Docker's syntax: no, on-failure[:N], always, unless-stopped) */
  restart?: string;
  logDriver?: string;
  logOpts: string[];
  health: HealthOptions;
  stopSignal?: string;
  stopTimeout?: number;
  /** --userns host (rootful); keep-id[:uid=U,gid=G] (Podman's, rootless) */
  userns?: string;
  /** --cgroup-parent PATH (rootful) */
  cgroupParent?: string;
  /** --cgroupns host|private */
  cgroupns?: string;
  /** --sysctl KEY=VALUE (namespaced ones only: sysctl.ts) */
  sysctls?: string[];
  /** --group-add: supplementary groups (names from the image's /etc/group, or numbers) */
  groupAdd?: string[];
  /** -m, --cpus, --pids-limit, --ulimit, --shm-size, ... as given (resources.ts) */
  resources?: ResourceOptions;
  /** where a limit that cannot be applied is reported (one line each; default: createContainer's report) */
  warn?: (line: string) => void;
}


const nullIfEmpty = (l: string[]): string[] | null => (l.length ? l : null);

/** What buildRecord needs besides the options: all checked, looked up and decided already. */
export interface RecordInput {
  o: CreateOptions;
  id: string;
  name: string;
  created: string;
  image: { id: string; name: string; chainIds: string[] };
  icfg: NonNullable<ImageConfig['config']>;
  user: ResolvedUser;
  mounts: MountPoint[];
  labels: Record<string, string>;
  givenEnv: string[];
  net: NetworkConfig;
  devices?: ReturnType<typeof resolveDevices>;
  /** the resource limits, parsed (HostConfig's fields) */
  limits: ReturnType<typeof parseResources>;
  rootless: boolean;
  /** --sysctl, parsed */
  sysctls?: Record<string, string>;
  /** IPC and UTS namespaces of another container (namespaces.ts) */
  shared?: ReturnType<typeof resolveSharedNamespaces>;
}

/** The container record and the container's environment, from checked input (pure). */
export function buildRecord(r: RecordInput): { rec: ContainerRecord; env: string[] } {
  const { o, icfg, user } = r;
  const argv = resolveCommand(icfg, o.entrypoint, o.command);
  if (argv.length === 0) throw new SkiffError('EINVAL', 'no command specified');
  // a shared UTS namespace has its owner's hostname
  const hostname = r.shared?.hostname ?? o.hostname ?? r.id.slice(0, 12);
  const workdir = o.workdir ?? icfg.WorkingDir ?? '';
  if (workdir !== '' && !workdir.startsWith('/')) {
    throw new SkiffError('EINVAL', `the working directory '${workdir}' is invalid, it needs to be an absolute path`);
  }
  const healthcheck = mergeHealthcheck(icfg.Healthcheck as HealthConfig | undefined, o.health);
  let env = mergeEnvEntries(icfg.Env ?? [], r.givenEnv);
  if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
  env = [...env.filter((e) => !e.startsWith('HOSTNAME=')), `HOSTNAME=${hostname}`];
  if (o.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  const security = parseSecurityOpts(o.securityOpt);
  // Docker: the image's EXPOSE and the ports of --expose and -p (keys "80/tcp"; an image's "80" is tcp)
  const exposed = [...new Set([...Object.keys(icfg.ExposedPorts ?? {}).map((k) => (k.includes('/') ? k : `${k}/tcp`)), ...Object.keys(r.net.exposed)])];
  const sec = securityPaths({ privileged: o.privileged, unmask: security.unmask, mask: security.mask });
  const rec: ContainerRecord = {
    Id: r.id,
    Name: r.name,
    Created: r.created,
    Path: argv[0]!,
    Args: argv.slice(1),
    Image: r.image.id,
    ImageName: r.image.name,
    Config: {
      Hostname: hostname,
      Domainname: o.domainname ?? '',
      User: o.user ?? icfg.User ?? '',
      ...attachConfig(o),
      Tty: o.tty,
      OpenStdin: o.interactive,
      Env: env,
      Cmd: o.command.length ? o.command : (o.entrypoint !== undefined ? null : (icfg.Cmd ?? null)),
      Image: o.image,
      Volumes: icfg.Volumes ?? null,
      WorkingDir: workdir,
      Entrypoint: o.entrypoint !== undefined ? nullIfEmpty(givenEntrypoint(o.entrypoint)) : (icfg.Entrypoint ?? null),
      Labels: { ...(icfg.Labels ?? {}), ...r.labels },
      ...(o.stopSignal ?? icfg.StopSignal ? { StopSignal: o.stopSignal ?? icfg.StopSignal } : {}),
      ...(o.stopTimeout !== undefined ? { StopTimeout: o.stopTimeout } : {}),
      ...(healthcheck ? { Healthcheck: healthcheck } : {}),
      ...(o.createCommand ? { CreateCommand: o.createCommand } : {}),
      ...(exposed.length ? { ExposedPorts: Object.fromEntries(exposed.map((k) => [k, {}])) } : {}),
      ...(r.net.mac ? { MacAddress: r.net.mac } : {}),
    },
    HostConfig: {
      Binds: o.volumes.length ? o.volumes : null,
      ...(o.volumesFrom?.length ? { VolumesFrom: o.volumesFrom } : {}),
      NetworkMode: r.net.mode,
      ...(r.shared?.PidMode ? { PidMode: r.shared.PidMode } : {}),
      ...(r.shared?.IpcMode ? { IpcMode: r.shared.IpcMode } : {}),
      ...(r.shared?.UTSMode ? { UTSMode: r.shared.UTSMode } : {}),
      ...(parseCgroupnsMode(o.cgroupns) ? { CgroupnsMode: parseCgroupnsMode(o.cgroupns) } : {}),
      ...(o.userns ? { UsernsMode: o.userns } : {}),
      ...(Object.keys(r.sysctls ?? {}).length ? { Sysctls: r.sysctls } : {}),
      ...(o.groupAdd?.length ? { GroupAdd: o.groupAdd } : {}),
      AutoRemove: o.rm,
      Privileged: o.privileged,
      ...(o.devices.length ? { Devices: r.devices?.mappings ?? o.devices.map(parseDevice) } : {}),
      ...(o.deviceCgroupRules.length ? { DeviceCgroupRules: o.deviceCgroupRules } : {}),
      CapAdd: o.capAdd.length ? o.capAdd : null,
      CapDrop: o.capDrop.length ? o.capDrop : null,
      ReadonlyRootfs: o.readOnly,
      SecurityOpt: o.securityOpt.length ? o.securityOpt : null,
      Init: o.init,
      MaskedPaths: sec.maskedPaths,
      ReadonlyPaths: sec.readonlyPaths,
      Tmpfs: null,
      RestartPolicy: parseRestartPolicy(o.restart),
      LogConfig: parseLogConfig(o.logDriver, o.logOpts),
      PortBindings: r.net.bindings,
      PublishAllPorts: r.net.publishAll,
      Dns: r.net.dns,
      DnsSearch: r.net.dnsSearch,
      DnsOptions: r.net.dnsOptions,
      ExtraHosts: r.net.extraHosts.length ? r.net.extraHosts : null,
      ...r.limits,
    },
    Mounts: r.mounts,
    Rootless: r.rootless,
    Layers: r.image.chainIds,
    ...(Object.keys(r.net.endpoints).length ? { Networks: r.net.endpoints } : {}),
  };
  return { rec, env };
}

/** Everything the user gave, checked before the image is pulled and before anything is created. */
function checkOptions(o: CreateOptions, warn: (line: string) => void) {
  if (o.name !== undefined) checkContainerName(o.name);
  if (o.hostname !== undefined) checkHostname(o.hostname);
  const security = parseSecurityOpts(o.securityOpt);
  const restart = parseRestartPolicy(o.restart);
  const limits = parseResources(o.resources ?? {}, warn);
  if (o.rm && restart.Name !== 'no') throw new SkiffError('EINVAL', 'Conflicting options: --restart and --rm');
  parseLogConfig(o.logDriver, o.logOpts);
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);
  return {
    security,
    limits,
    net: checkNetworkOptions(o),
    mounts: withVolumesFrom(parseMounts(o.volumes, o.mounts, o.tmpfs), o.volumesFrom ?? []),
    sysctls: parseSysctls(o.sysctls ?? []),
    cgroupns: parseCgroupnsMode(o.cgroupns),
    userns: parseUsernsMode(o.userns, paths().rootless),
    cgroupParent: parseCgroupParent(o.cgroupParent, paths().rootless),
    labels: parseLabels(userLabels(o.labelFile ?? [], o.labels)),
    givenEnv: userEnv(o.envFile, o.env),
    // validated and looked up before anything is made (Docker ignores both with --privileged)
    devices: o.privileged ? undefined : resolveDevices(o.devices, o.deviceCgroupRules),
  };
}

/**
 * Create a container from `o`; an image not in the store is got with `pull` (the caller's). `report.warn`
 * gets Docker's warnings (the CLI prints them as `WARNING: ...`).
 */
/** --replace: the container called `name`, if there is one, goes as `rm -f` would take it. */
async function removeNamed(name: string): Promise<void> {
  let rec: ContainerRecord;
  try {
    rec = findContainer(name);
  } catch (e) {
    if (e instanceof SkiffError && e.code === 'ENOCONTAINER') return;
    throw e;
  }
  if (rec.Name === name) await removeContainer(rec.Id, { force: true }); // the name, never an id prefix
}

export async function createContainer(o: CreateOptions, pull: PullFn, report: { warn(msg: string): void } = { warn: () => undefined }): Promise<ContainerRecord> {
  const warn = o.warn ?? ((line: string): void => report.warn(line));
  const checked = checkOptions(o, warn);
  for (const w of checked.net.warnings) report.warn(w);
  if (o.replace && !o.name) throw new SkiffError('EINVAL', 'cannot replace a container without --name being set');
  if (o.uts !== undefined && o.hostname !== undefined) throw new SkiffError('EINVAL', 'conflicting options: hostname and the UTS mode');
  const shared = resolveSharedNamespaces(o);
  if (paths().rootless) checkJoinedUserns(o.userns, [shared.PidMode, shared.IpcMode, shared.UTSMode, checked.net.mode]);
  checkSysctlNamespaces(checked.sysctls, checked.net.mode, shared.IpcMode);
  // rootless, the shim stays in the joined PID namespace (namespaces.ts joinOwnerUserns): no network helper of its own there
  if (paths().rootless && shared.PidMode?.startsWith('container:') && checked.net.mode !== 'none' && !checked.net.mode.startsWith('container:')) {
    throw new SkiffError('EINVAL', 'rootless, --pid container:X needs --network container:X or --network none');
  }
  const { record: image, name: imageName } = await ensureImage(o.image, { pull: o.pull, platform: o.platform }, pull);
  if (o.replace && o.name) await removeNamed(o.name);
  const config = await readImageConfig(image);
  const icfg = config.config ?? {};
  const id = newContainerId();
  const chainIds = image.layers.map((l) => l.chainId);
  const diffsTopFirst = chainIds.map(diffDir).reverse();
  const readFile = (p: string): string | undefined => readLayeredFile(diffsTopFirst, p);
  const ids = checked.userns.ids;
  const keepId = ids?.mode === 'keep-id' ? ids : undefined;
  // keep-id: the container runs as U:G unless --user says otherwise (Podman's: the image's USER does not; Config.User)
  if (keepId && o.user === undefined) o = { ...o, user: `${keepId.uid}:${keepId.gid}` };
  let user = withGroups(resolveUser(o.user ?? icfg.User ?? '', readFile), resolveGroups(o.groupAdd ?? [], readFile));
  const mounts = [...checked.mounts, ...imageVolumes(icfg.Volumes ?? undefined, checked.mounts)];
  const keepIdEtc = keepId ? keepIdFiles(keepId, readFile, mounts.map((m) => m.Destination), o.workdir ?? icfg.WorkingDir ?? '') : {};
  if (keepIdEtc.home && user.uid === keepId?.uid) user = { ...user, home: keepIdEtc.home };
  const shifted = ids ? await shiftedRoot(chainIds, ids) : undefined;
  const { rec, env } = buildRecord({
    o, id, icfg, user,
    name: o.name ?? generateName(), // a generated one is claimed under the lock, asked again if taken
    created: new Date().toISOString(),
    image: { id: image.id, name: imageName, chainIds },
    mounts,
    labels: checked.labels,
    givenEnv: checked.givenEnv,
    net: checked.net,
    devices: checked.devices,
    limits: checked.limits,
    sysctls: checked.sysctls,
    rootless: paths().rootless,
    shared,
  });
  const { limits } = checked;
  const cgroups = planCgroups(id, paths().rootless, undefined, undefined, Boolean(limits.CpusetCpus || limits.CpusetMems), checked.cgroupParent);
  if (checked.cgroupParent) rec.HostConfig.CgroupParent = o.cgroupParent;
  if (cgroups.dirs.length) rec.CgroupDirs = cgroups.dirs;
  const { writes: cgroupWrites, refused } = limitWrites(limits, cgroups.groups, { fresh: true, why: cgroups.dirs.length ? undefined : cgroups.reason });
  refused.forEach(warn);
  // the image's config is not ours either: a NUL anywhere would fail the start after the container exists
  refuseNul({ record: rec });
  const f = containerFiles(id);
  const hostname = rec.Config.Hostname;
  let attempts = 0;
  // volumes live in the store (src/volume/); an anonymous one goes with a --rm container. Attaching
  // fills in the record's mounts (Name, Driver, Source), which are the same objects.
  const volumes = await attachContainerVolumes(mounts);
  try {
    const spec = buildSpec({
      rec, user, env, security: checked.security, cgroups, removeWithContainer: volumes.anonymousDirs, tmpfsVolumes: volumes.tmpfs, dataVolumes: volumes.dataVolumes,
      devices: checked.devices?.resolved, cgroupWrites,
      ...(shifted ? { ...(shifted.lower ? { lower: shifted.lower } : {}), idMappings: shifted } : {}),
      etcFiles: [
        ...(keepIdEtc.passwd !== undefined ? [['/etc/passwd', path.join(f.dir, 'passwd')] as [string, string]] : []),
        ...(keepIdEtc.group !== undefined ? [['/etc/group', path.join(f.dir, 'group')] as [string, string]] : []),
      ],
    });
    refuseNul({ spec });
    // a handful of small files in a fresh staging dir: synchronous calls, no thread-pool round trips
    await createContainerDir(rec, async (dir) => {
      const rel = (p: string): string => path.join(dir, path.relative(f.dir, p));
      fs.mkdirSync(rel(f.rootfs), { recursive: true });
      fs.mkdirSync(rel(f.upper), { mode: 0o755 });
      fs.mkdirSync(rel(f.work), { mode: 0o700 });
      fs.writeFileSync(rel(f.hostname), `${hostname}\n`, { mode: 0o644 });
      fs.writeFileSync(rel(f.hosts), hostsFile(hostname, checked.net.mode), { mode: 0o644 });
      fs.writeFileSync(rel(f.resolv), resolvConf(), { mode: 0o644 });
      if (keepIdEtc.passwd !== undefined) fs.writeFileSync(path.join(dir, 'passwd'), keepIdEtc.passwd, { mode: 0o644 });
      if (keepIdEtc.group !== undefined) fs.writeFileSync(path.join(dir, 'group'), keepIdEtc.group, { mode: 0o644 });
      fs.writeFileSync(rel(f.spec), JSON.stringify(spec));
    }, o.name === undefined ? () => generateName(++attempts) : undefined, reapAbandoned);
  } catch (e) {
    // volumes this create made (named ones too: Docker creates them with the container) go with it
    await discardVolumes(volumes.made);
    throw e;
  }
  containerEvent(rec, 'create');
  return rec;
}

/**
 * `--volumes-from C[:ro|rw]`: C's volume and bind mounts on the same destinations (Docker: the
 * mode given, else C's), after the container's own mounts (which win on a shared destination).
 */
function withVolumesFrom(own: RequestedMount[], list: string[]): RequestedMount[] {
  const out: RequestedMount[] = [...own];
  const dests = new Set(own.map((m) => m.Destination));
  for (const item of list) {
    const colon = item.lastIndexOf(':');
    const mode = colon > 0 ? item.slice(colon + 1) : '';
    if (colon > 0 && mode !== 'ro' && mode !== 'rw') throw new SkiffError('EINVAL', `invalid mode for volumes-from: ${mode}`);
    let from: ContainerRecord;
    try {
      from = findContainer(colon > 0 ? item.slice(0, colon) : item);
    } catch (e) {
      throw new SkiffError('ENOCONTAINER', (e as Error).message, 125); // Docker's run and create fail with 125 here
    }
    for (const m of from.Mounts) {
      if (m.Type === 'tmpfs' || dests.has(m.Destination)) continue;
      dests.add(m.Destination);
      const rw = mode ? mode === 'rw' : m.RW;
      const keep = m.Mode.split(',').filter((x) => x && x !== 'ro' && x !== 'rw' && x !== 'U');
      // a volume by name (attached again: Source becomes its data dir), a bind by its path
      out.push({ ...m, Source: m.Type === 'volume' ? m.Name ?? '' : m.Source, Mode: [...keep, ...(mode ? [mode] : [])].join(','), RW: rw });
    }
  }
  return out;
}

/** An anonymous volume for each VOLUME of the image no other mount covers (Docker's). */
function imageVolumes(volumes: Record<string, unknown> | undefined, taken: MountPoint[]): RequestedMount[] {
  const dests = new Set(taken.map((m) => m.Destination));
  const out: RequestedMount[] = [];
  for (const raw of Object.keys(volumes ?? {})) {
    const dst = path.posix.normalize(raw.startsWith('/') ? raw : `/${raw}`).replace(/(.)\/+$/, '$1');
    if (dst === '/' || dests.has(dst)) continue;
    dests.add(dst);
    out.push({ Type: 'volume', Source: '', Destination: dst, Mode: '', RW: true, Propagation: '' });
  }
  return out;
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
