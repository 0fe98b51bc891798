/**
 * Volumes: the one module that owns them (records, creation, use by containers, removal).
 *
 *   volumes/<name>/volume.json   the record (Docker's fields; written last, so a volume is ready once it has one)
 *   volumes/<name>/_data         what a container mounts (unless the options say tmpfs or a bind of `device`)
 *   volumes/<name>/copyup        mark: not used yet. The first container start that mounts the volume
 *                                removes it, after filling an empty `_data` from the image (copy-up, done
 *                                by the shim: addon/shim/copyup.c, under an flock of volumes/<name>)
 *
 * A volume is made in tmp/ and renamed into volumes/ whole, under the `volumes` lock, so a crash
 * leaves nothing a container or `volume ls` would take for a volume. Directories from before the
 * records existed (a `_data` and no volume.json) are read as local volumes with no options.
 * Anonymous volumes carry Docker's label `com.docker.volume.anonymous` (what `volume prune` without
 * `-a` removes, Docker ≥ 23).
 */
import { treeSize } from '../lib/du.js';
import { recordEvent } from '../store/events.js';
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { makeStagingDir, discardStaging, removeTree, readJsonSync } from '../store/atomic.js';
import { dirs, volumeDir } from '../store/layout.js';
import { withLock } from '../store/lock.js';
import { listContainers, type ContainerRecord, type MountPoint } from '../store/containers.js';
import { NAME_RE, newId } from '../lib/ids.js';
import { labelsMatch, type LabelFilter } from '../image/filters.js';

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const RECORD = 'volume.json';
const COPYUP_MARK = 'copyup';

export interface VolumeRecord {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: string;
}

/** What a container mounts for a volume: a directory to bind, or a tmpfs with these options. */
export type VolumeSource = { kind: 'bind'; path: string } | { kind: 'tmpfs'; options: string[] };

// Docker's local driver: the --opt keys it knows
const LOCAL_OPTS = new Set(['type', 'o', 'device', 'size']);

/** Docker's error for a name that is not a local volume name (also refuses `..` and `/`). */
export function checkVolumeName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new SkiffError(
      'EINVAL',
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      1,
    );
  }
}

/** `--opt k=v` list → options, with the local driver's rules (Docker's volume/local setOpts). */
export function parseVolumeOptions(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of list) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `invalid key value pair format in driver options: "${o}"`);
    out[o.slice(0, eq)] = o.slice(eq + 1);
  }
  checkLocalOptions(out);
  return out;
}

function checkLocalOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) if (!LOCAL_OPTS.has(k)) throw new SkiffError('EINVAL', `invalid option key: "${k}"`, 1);
  const type = opts.type;
  if (opts.size !== undefined && type !== 'tmpfs') throw new SkiffError('EINVAL', `invalid option: "size" is only supported for tmpfs volumes (type=tmpfs)`, 1);
  if (opts.size !== undefined && !/^\d+[kKmMgG]?$/.test(opts.size)) throw new SkiffError('EINVAL', `invalid size: '${opts.size}'`, 1);
  if (opts.device !== undefined && type === undefined) throw new SkiffError('EINVAL', 'missing required option: "type"', 1);
  if (type !== undefined && opts.device === undefined && type !== 'tmpfs') throw new SkiffError('EINVAL', 'missing required option: "device"', 1);
  if (type !== undefined && type !== 'tmpfs' && type !== 'none') {
    throw new SkiffError('EINVAL', `invalid option: type "${type}": skiff's local volumes support type=tmpfs and type=none with o=bind`, 1);
  }
  if (type === 'none') {
    const o = (opts.o ?? '').split(',').filter(Boolean);
    if (!o.includes('bind') && !o.includes('rbind')) throw new SkiffError('EINVAL', 'invalid option: type=none needs o=bind', 1);
    if (!path.isAbsolute(opts.device!)) throw new SkiffError('EINVAL', `invalid option: device "${opts.device}" must be an absolute path for a bind`, 1);
  }
  if (type === 'tmpfs') {
    for (const o of (opts.o ?? '').split(',').filter(Boolean)) {
      if (!/^(size=\d+[kKmMgG%]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kKmMgG]?|noexec|exec|nosuid|suid|nodev|dev|ro|rw)$/.test(o)) {
        throw new SkiffError('EINVAL', `invalid option: o=${opts.o}: "${o}" is not a tmpfs option skiff knows`, 1);
      }
    }
  }
}

function recordOf(name: string): VolumeRecord | undefined {
  const dir = volumeDir(name);
  const rec = readJsonSync<VolumeRecord>(path.join(dir, RECORD));
  if (rec) return { ...rec, Mountpoint: path.join(dir, '_data') };
  // a volume from before records (made by `create` alone): its directory is all there is
  try {
    const st = fs.statSync(path.join(dir, '_data'));
    return { CreatedAt: rfc3339(st.birthtime.getTime() ? st.birthtime : st.mtime), Driver: 'local', Labels: null, Mountpoint: path.join(dir, '_data'), Name: name, Options: null, Scope: 'local' };
  } catch {
    return undefined;
  }
}

/** Docker's CreatedAt: RFC 3339 in seconds with the local offset. */
function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  if (off === 0) return `${local}Z`;
  const a = Math.abs(off);
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export function listVolumes(): VolumeRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(dirs().volumes);
  } catch {
    return [];
  }
  return names.filter((n) => NAME_RE.test(n)).map(recordOf).filter((r): r is VolumeRecord => r !== undefined).sort((a, b) => (a.Name < b.Name ? -1 : 1));
}

export function findVolume(name: string): VolumeRecord {
  const rec = NAME_RE.test(name) ? recordOf(name) : undefined;
  if (!rec) throw new SkiffError('ENOVOLUME', `No such volume: ${name}`, 1);
  return rec;
}

export function volumeExists(name: string): boolean {
  return NAME_RE.test(name) && recordOf(name) !== undefined;
}

export interface CreateVolumeOptions {
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/**
 * `volume create`: a new volume (a random name when none is given), or the existing one of that name
 * unchanged (Docker: creating an existing local volume is not an error). Returns its name.
 */
export async function createVolume(name: string | undefined, o: CreateVolumeOptions = {}): Promise<{ name: string; made: boolean }> {
  const driver = o.driver ?? 'local';
  if (driver !== 'local') throw new SkiffError('EINVAL', `error looking up volume plugin ${driver}: plugin "${driver}" not found`, 1);
  const vname = name ?? newId();
  checkVolumeName(vname);
  if (o.options) checkLocalOptions(o.options);
  return withLock('volumes', async () => {
    if (recordOf(vname)) return { name: vname, made: false };
    const stage = await makeStagingDir('volume');
    try {
      fs.mkdirSync(path.join(stage, '_data'), { mode: 0o755 });
      if (!o.options?.type) fs.writeFileSync(path.join(stage, COPYUP_MARK), '', { mode: 0o600 });
      fs.chmodSync(stage, 0o701); // as Docker's volumes/<name>: the data dir is reachable, the record not listable
      const rec: VolumeRecord = {
        CreatedAt: rfc3339(new Date()),
        Driver: driver,
        Labels: o.labels && Object.keys(o.labels).length ? o.labels : null,
        Mountpoint: path.join(volumeDir(vname), '_data'),
        Name: vname,
        Options: o.options && Object.keys(o.options).length ? o.options : null,
        Scope: 'local',
      };
      fs.writeFileSync(path.join(stage, RECORD), JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
      // a leftover data dir with no record (from before records): the record joins it
      try {
        fs.renameSync(stage, volumeDir(vname));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
        fs.renameSync(path.join(stage, RECORD), path.join(volumeDir(vname), RECORD));
        await discardStaging(stage);
      }
      recordEvent('volume', 'create', vname, { driver });
      return { name: vname, made: true };
    } catch (e) {
      await discardStaging(stage);
      throw e;
    }
  });
}

/** The volumes a container mounts, by name. */
export function volumesOf(rec: ContainerRecord): string[] {
  return rec.Mounts.filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
}

/** Containers (all, or only running ones) that mount the volume `name`. */
export function containersUsing(name: string, containers: ContainerRecord[] = listContainers()): ContainerRecord[] {
  return containers.filter((c) => volumesOf(c).includes(name));
}

/** What a container mounts for this volume (its options decide: the data dir, a bind of `device`, a tmpfs). */
export function volumeSource(v: VolumeRecord): VolumeSource {
  const opts = v.Options ?? {};
  if (opts.type === 'none') return { kind: 'bind', path: opts.device! };
  if (opts.type === 'tmpfs') {
    const o = (opts.o ?? '').split(',').filter(Boolean);
    if (opts.size !== undefined && !o.some((x) => x.startsWith('size='))) o.push(`size=${opts.size}`);
    return { kind: 'tmpfs', options: o };
  }
  return { kind: 'bind', path: v.Mountpoint };
}

/**
 * `volume rm`: refuses a volume a container uses (any container without `force`; a running one
 * even with it, as Docker), then removes its record first (so it stops being a volume) and its data.
 * `isRunning` is the container domain's answer (the caller's: volumes sit below containers).
 */
export async function removeVolume(name: string, force: boolean, isRunning: (c: ContainerRecord) => boolean): Promise<void> {
  await withLock('volumes', async () => {
    const v = recordOf(name);
    if (!v || !NAME_RE.test(name)) {
      if (force) return; // Docker: rm -f of a missing volume is not an error
      throw new SkiffError('ENOVOLUME', `No such volume: ${name}`, 1);
    }
    const users = containersUsing(name);
    const blocking = force ? users.filter(isRunning) : users;
    if (blocking.length) {
      throw new SkiffError('ECONFLICT', `remove ${name}: volume is in use - [${blocking.map((c) => c.Id).join(', ')}]`, 1);
    }
    await dropVolume(name);
  });
}

async function dropVolume(name: string): Promise<void> {
  const dir = volumeDir(name);
  fs.rmSync(path.join(dir, RECORD), { force: true });
  await removeTree(dir);
  recordEvent('volume', 'destroy', name, { driver: 'local' });
}

/** Docker's `volume ls`/`volume prune` filters. */
export interface VolumeFilters {
  name: string[];
  label: LabelFilter[];
  labelNot: LabelFilter[];
  driver: string[];
  dangling?: boolean;
}

export function parseVolumeFilters(list: string[], allowed: readonly string[]): VolumeFilters {
  const f: VolumeFilters = { name: [], label: [], labelNot: [], driver: [] };
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `bad format of filter (expected name=value): ${item}`);
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    if (!allowed.includes(key)) throw new SkiffError('EINVAL', `invalid filter '${key}'`);
    if (key === 'name') f.name.push(value);
    else if (key === 'driver') f.driver.push(value);
    else if (key === 'label') f.label.push(parseLabelFilter(value));
    else if (key === 'label!') f.labelNot.push(parseLabelFilter(value));
    else if (key === 'dangling') {
      const v = value.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(v)) throw new SkiffError('EINVAL', `invalid filter 'dangling=${value}'`);
      f.dangling = v === 'true' || v === '1';
    }
  }
  return f;
}

function matches(v: VolumeRecord, f: VolumeFilters, used: Set<string>): boolean {
  // Docker: name= is a substring match; several values of one key: any of them
  if (f.name.length && !f.name.some((n) => v.Name.includes(n))) return false;
  if (f.driver.length && !f.driver.includes(v.Driver)) return false;
  if (f.label.length && !labelsMatch(f.label, v.Labels ?? undefined)) return false;
  if (f.labelNot.length && f.labelNot.some((l) => labelsMatch([l], v.Labels ?? undefined))) return false;
  if (f.dangling !== undefined && f.dangling === used.has(v.Name)) return false;
  return true;
}

function parseLabelFilter(value: string): LabelFilter {
  const i = value.indexOf('=');
  return i < 0 ? { key: value } : { key: value.slice(0, i), value: value.slice(i + 1) };
}

function usedNames(containers: ContainerRecord[]): Set<string> {
  return new Set(containers.flatMap(volumesOf));
}

export const LS_FILTERS = ['name', 'label', 'label!', 'dangling', 'driver'] as const;
export const PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

export function filterVolumes(filters: string[]): VolumeRecord[] {
  const f = parseVolumeFilters(filters, LS_FILTERS);
  const used = usedNames(listContainers());
  return listVolumes().filter((v) => matches(v, f, used));
}

/** `volume prune`: unused volumes, only anonymous ones unless `all` (or the filter all=true), matching `filters`. */
export async function pruneVolumes(all: boolean, filters: string[]): Promise<{ deleted: string[]; reclaimed: number }> {
  const allFilter = filters.find((x) => /^all=/i.test(x.trim()));
  const rest = filters.filter((x) => x !== allFilter);
  if (allFilter) {
    const v = allFilter.slice(allFilter.indexOf('=') + 1).trim().toLowerCase();
    if (!['true', 'false', '1', '0'].includes(v)) throw new SkiffError('EINVAL', `invalid filter 'all=${v}'`);
    all ||= v === 'true' || v === '1';
  }
  const f = parseVolumeFilters(rest, PRUNE_FILTERS);
  return withLock('volumes', async () => {
    const used = usedNames(listContainers());
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of listVolumes()) {
      if (used.has(v.Name) || !matches(v, f, used)) continue;
      if (!all && !(v.Labels && ANONYMOUS_LABEL in v.Labels)) continue;
      const size = v.Options?.type ? 0 : treeSize(v.Mountpoint);
      await dropVolume(v.Name);
      deleted.push(v.Name);
      reclaimed += size;
    }
    return { deleted, reclaimed };
  });
}

/**
 * A container's volume mount at create: the named volume (made now if missing, as Docker does) or a
 * fresh anonymous one. Returns the volume's name, what to mount, and whether this call made it.
 */
export async function attachVolume(name: string, options?: Record<string, string>): Promise<{ name: string; source: VolumeSource; made: boolean }> {
  const anonymous = name === '';
  const r = await createVolume(anonymous ? undefined : name, { options, ...(anonymous ? { labels: { [ANONYMOUS_LABEL]: '' } } : {}) });
  const v = findVolume(r.name);
  const source = volumeSource(v);
  if (source.kind === 'bind' && source.path !== v.Mountpoint && !fs.existsSync(source.path)) {
    throw new SkiffError('EINVAL', `error while mounting volume '${v.Mountpoint}': failed to mount local volume: mount ${source.path}:${v.Mountpoint}, flags: 0x1000: no such file or directory`);
  }
  return { name: r.name, source, made: r.made };
}

/** Remove volumes `attachVolume` made for a create that then failed. */
export async function discardVolumes(names: string[]): Promise<void> {
  if (!names.length) return;
  await withLock('volumes', async () => {
    for (const n of names) await dropVolume(n).catch(() => undefined);
  });
}

/**
 * `rm -v`: the container's anonymous volumes that no other container uses (Docker keeps named ones).
 * Call after the container record is gone.
 */
export async function removeAnonymousVolumes(rec: ContainerRecord): Promise<void> {
  const names = volumesOf(rec);
  if (!names.length) return;
  await withLock('volumes', async () => {
    const used = usedNames(listContainers());
    for (const n of names) {
      const v = recordOf(n);
      if (!v || used.has(n) || !(v.Labels && ANONYMOUS_LABEL in v.Labels)) continue;
      await dropVolume(n);
    }
  });
}

/** The volume mounts of a container being created, attached: see attachContainerVolumes. */
export interface AttachedVolumes {
  /** volumes this create made (named ones too: Docker creates them with the container): discarded if it fails */
  made: string[];
  /** tmpfs options by destination, for volumes created with --opt type=tmpfs */
  tmpfs: Record<string, string[]>;
  /** directories of the anonymous volumes, which a --rm container's shim removes with it */
  anonymousDirs: string[];
  /** destinations whose source is a volume's `_data` (the shim's copy-up and first-use mark) */
  dataVolumes: string[];
}

/**
 * A mount as the options give it. Besides the record's fields: the options a volume is created with
 * when missing (`--mount volume-opt=`), and whether a missing bind source is made (`-v`, as Docker;
 * `--mount` refuses it). attachContainerVolumes consumes both.
 */
export type RequestedMount = MountPoint & { volumeOptions?: Record<string, string>; makeSource?: boolean };

/**
 * Attach every volume mount of a container being created (`Source` is the name given, '' for an
 * anonymous one): each gets its volume, made if missing, and `Name`, `Driver` and `Source` as
 * Docker's inspect shows them. On failure the volumes made so far are removed again.
 */
export async function attachContainerVolumes(mounts: RequestedMount[]): Promise<AttachedVolumes> {
  const out: AttachedVolumes = { made: [], tmpfs: {}, anonymousDirs: [], dataVolumes: [] };
  try {
    for (const mp of mounts) {
      const { volumeOptions, makeSource } = mp;
      delete mp.volumeOptions;
      delete mp.makeSource;
      if (mp.Type === 'bind' && makeSource) makeBindSource(mp.Source);
      if (mp.Type !== 'volume') continue;
      const anonymous = mp.Source === '';
      const a = await attachVolume(mp.Source, volumeOptions);
      if (a.made) out.made.push(a.name);
      if (anonymous) out.anonymousDirs.push(volumeDir(a.name));
      if (a.source.kind === 'tmpfs') out.tmpfs[mp.Destination] = a.source.options;
      else if (a.source.path === path.join(volumeDir(a.name), '_data')) out.dataVolumes.push(mp.Destination);
      Object.assign(mp, { Name: a.name, Driver: 'local', Source: a.source.kind === 'bind' ? a.source.path : path.join(volumeDir(a.name), '_data') });
    }
  } catch (e) {
    await discardVolumes(out.made);
    throw e;
  }
  return out;
}

/**
 * `-v /host:/ctr` with a missing /host: Docker's daemon makes it (0755, as the caller: root, or the
 * rootless user), one level at a time. `--mount type=bind` refuses a missing source instead (mounts.ts).
 */
function makeBindSource(p: string): void {
  const missing: string[] = [];
  for (let d = p; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SkiffError('EINVAL', `error while creating mount source path '${p}': mkdir ${d}: ${(e as Error).message.replace(/^E[A-Z]+: /, '').replace(/, mkdir .*$/, '')}`);
      }
    }
  }
}
