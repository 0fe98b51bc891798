/**
 * `play`: a pod's volumes and a container's volumeMounts → mounts in Docker's terms.
 * - persistentVolumeClaim → the named volume of the claim (the PVC in the file names it, through skiff's
 *   annotation when generate had to change the name; a claim not in the file is a volume of that name);
 * - hostPath → a bind of the host path, its `type` kept for the executor's checks (`hostPathCheck`);
 *   a path without '/' is a named volume (podman's rule);
 * - emptyDir → a volume of the pod (`POD-VOLUME`, made and removed with it); medium Memory → tmpfs
 *   (sizeLimit → size) per container;
 * - configMap / secret → files (keys or `items`, modes: item, else defaultMode, else 0644) written into a
 *   volume of the pod and mounted read-only; a missing object or key is an error unless `optional`.
 *   Item paths are relative and never climb (`..`): the files stay inside their volume.
 * Other volume types are errors naming the path.
 */
import { formatPath } from '../compose/tree.js';
import type { Container, Volume } from './types.js';
import type { FileSpec, HostPathType, MountSpec } from './model.js';
import type { DataSources } from './env.js';
import type { KubeProblem, KubeWarning } from './errors.js';
import { quantityBytes } from './quantity.js';

const HOST_PATH_TYPES = new Set<string>(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']);
const DEFAULT_MODE = 0o644;

export type ResolvedVolume =
  | { kind: 'claim'; volume: string }
  | { kind: 'bind'; path: string; type: HostPathType }
  | { kind: 'named'; volume: string }
  | { kind: 'empty'; volume: string }
  | { kind: 'memory'; sizeBytes?: number }
  | { kind: 'files'; volume: string; source: { kind: 'ConfigMap' | 'Secret'; name: string }; files: FileSpec[] };

type Problem = (p: Omit<KubeProblem, 'document' | 'kind' | 'name'>) => void;

/** A relative path that stays inside its directory. */
function safeRelative(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.split('/').some((s) => s === '..') && !p.includes('\0');
}

function files(
  source: { kind: 'ConfigMap' | 'Secret'; name: string },
  values: Map<string, Buffer> | undefined,
  spec: { items?: { key: string; path: string; mode?: number }[]; defaultMode?: number; optional?: boolean },
  path: (string | number)[],
  problem: Problem,
): FileSpec[] {
  const what = source.kind === 'ConfigMap' ? 'configMap' : 'secret';
  const badPath = (spec.items ?? []).findIndex((item) => !safeRelative(item.path));
  if (badPath >= 0) {
    problem({ path: formatPath([...path, 'items', badPath, 'path']), message: "must be a relative path that does not contain '..'" });
    return [];
  }
  if (!values) {
    if (!spec.optional) problem({ path: formatPath(path), message: `${what} ${JSON.stringify(source.name)} not found (and not optional)` });
    return [];
  }
  const mode = (m: number | undefined, at: (string | number)[]): number => {
    const v = m ?? spec.defaultMode ?? DEFAULT_MODE;
    if (v < 0 || v > 0o777) problem({ path: formatPath(at), message: 'must be a number between 0 and 0777 (octal), both inclusive' });
    return v & 0o777;
  };
  if (spec.defaultMode !== undefined) mode(undefined, [...path, 'defaultMode']);
  if (!spec.items) return [...values].map(([k, content]) => ({ path: k, content, mode: mode(undefined, path) }));
  const out: FileSpec[] = [];
  spec.items.forEach((item, i) => {
    const at = [...path, 'items', i];
    const content = values.get(item.key);
    if (content === undefined) {
      if (!spec.optional) problem({ path: formatPath([...at, 'key']), message: `${what} ${JSON.stringify(source.name)} has no key ${JSON.stringify(item.key)} (and it is not optional)` });
      return;
    }
    out.push({ path: item.path, content, mode: mode(item.mode, [...at, 'mode']) });
  });
  return out;
}

/** A pod's volumes by name. `claims` maps claim names to volume names (PVCs of the file). */
export function resolveVolumes(
  volumes: readonly Volume[],
  path: (string | number)[],
  podName: string,
  claims: ReadonlyMap<string, string>,
  data: DataSources,
  problem: Problem,
  warn: (w: KubeWarning) => void,
): Map<string, ResolvedVolume> {
  const out = new Map<string, ResolvedVolume>();
  volumes.forEach((v, i) => {
    const at = [...path, i];
    const podVolume = `${podName}-${v.name}`;
    if (v.persistentVolumeClaim) {
      if (v.persistentVolumeClaim.readOnly) warn({ message: `volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} is read-only: its mounts are made read-only` });
      out.set(v.name, { kind: 'claim', volume: claims.get(v.persistentVolumeClaim.claimName) ?? v.persistentVolumeClaim.claimName });
    } else if (v.hostPath) {
      const type = v.hostPath.type ?? '';
      if (!HOST_PATH_TYPES.has(type)) {
        problem({ path: formatPath([...at, 'hostPath', 'type']), message: `Unsupported value: ${JSON.stringify(type)}: supported values: ${[...HOST_PATH_TYPES].map((t) => JSON.stringify(t)).join(', ')}` });
        return;
      }
      if (!v.hostPath.path.includes('/')) out.set(v.name, { kind: 'named', volume: v.hostPath.path });
      else {
        warn({ message: `volume ${v.name} mounts the host path ${v.hostPath.path}` });
        out.set(v.name, { kind: 'bind', path: v.hostPath.path, type: type as HostPathType });
      }
    } else if (v.emptyDir) {
      if (v.emptyDir.medium === 'Memory') {
        const size = v.emptyDir.sizeLimit !== undefined ? quantityBytes(v.emptyDir.sizeLimit) : undefined;
        out.set(v.name, { kind: 'memory', ...(size ? { sizeBytes: size } : {}) });
      } else {
        if (v.emptyDir.sizeLimit !== undefined) warn({ message: `volume ${v.name}: emptyDir sizeLimit is not enforced on disk` });
        out.set(v.name, { kind: 'empty', volume: podVolume });
      }
    } else if (v.configMap) {
      const source = { kind: 'ConfigMap' as const, name: v.configMap.name ?? '' };
      out.set(v.name, { kind: 'files', volume: podVolume, source, files: files(source, data.configMaps.get(source.name), v.configMap, [...at, 'configMap'], problem) });
    } else if (v.secret) {
      const source = { kind: 'Secret' as const, name: v.secret.secretName ?? '' };
      out.set(v.name, { kind: 'files', volume: podVolume, source, files: files(source, data.secrets.get(source.name), v.secret, [...at, 'secret'], problem) });
    } else {
      const type = Object.keys(v).find((k) => k !== 'name') ?? 'none';
      problem({ path: formatPath(at), message: `volume type ${type} is not supported by skiff (persistentVolumeClaim, hostPath, emptyDir, configMap and secret are)` });
    }
  });
  return out;
}

/** A container's volumeMounts → mounts (the names were checked against the pod's volumes). */
export function containerMounts(c: Container, path: (string | number)[], vols: ReadonlyMap<string, ResolvedVolume>, claimReadOnly: (name: string) => boolean, problem: Problem, warn: (w: KubeWarning) => void): MountSpec[] {
  const out: MountSpec[] = [];
  (c.volumeMounts ?? []).forEach((m, i) => {
    const v = vols.get(m.name);
    if (!v) return; // reported by validation, or its volume's own problem
    const readOnly = m.readOnly === true || claimReadOnly(m.name);
    const sub = m.subPath ? { subPath: m.subPath } : {};
    if (m.mountPropagation && m.mountPropagation !== 'None') warn({ message: `container ${c.name}: mountPropagation ${m.mountPropagation} of ${m.mountPath} is not supported: private` });
    if (m.subPathExpr) problem({ path: formatPath([...path, 'volumeMounts', i, 'subPathExpr']), message: 'subPathExpr is not supported by skiff' });
    switch (v.kind) {
      case 'claim':
      case 'named':
        out.push({ type: 'volume', name: v.volume, target: m.mountPath, readOnly, ...sub });
        break;
      case 'empty':
        out.push({ type: 'volume', name: v.volume, target: m.mountPath, readOnly, ephemeral: true, ...sub });
        break;
      case 'bind':
        out.push({ type: 'bind', source: v.path, target: m.mountPath, readOnly, ...(v.type ? { hostPathType: v.type } : {}), ...sub });
        break;
      case 'memory':
        if (m.subPath) warn({ message: `container ${c.name}: subPath of a memory emptyDir is not supported: the whole tmpfs is mounted at ${m.mountPath}` });
        out.push({ type: 'tmpfs', target: m.mountPath, ...(v.sizeBytes ? { sizeBytes: v.sizeBytes } : {}) });
        break;
      case 'files':
        out.push({ type: 'files', volume: v.volume, source: v.source, target: m.mountPath, files: v.files, readOnly: true, ...sub });
        break;
    }
  });
  return out;
}

export interface HostPathStat {
  isDirectory(): boolean;
  isFile(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/**
 * What the executor does with a hostPath before mounting it (Kubernetes' checks): 'ok', 'mkdir' or
 * 'create-file' (the *OrCreate types, when nothing is there), or the reason it must not be mounted.
 */
export function hostPathCheck(type: HostPathType | undefined, path: string, st: HostPathStat | undefined): 'ok' | 'mkdir' | 'create-file' | { error: string } {
  const t = type ?? '';
  if (t === '') return st ? 'ok' : 'mkdir';
  if (!st) {
    if (t === 'DirectoryOrCreate') return 'mkdir';
    if (t === 'FileOrCreate') return 'create-file';
    return { error: `hostPath type check failed: ${path} does not exist (type ${t})` };
  }
  const ok: Record<Exclude<HostPathType, ''>, boolean> = {
    DirectoryOrCreate: st.isDirectory(),
    Directory: st.isDirectory(),
    FileOrCreate: st.isFile(),
    File: st.isFile(),
    Socket: st.isSocket(),
    CharDevice: st.isCharacterDevice(),
    BlockDevice: st.isBlockDevice(),
  };
  return ok[t] ? 'ok' : { error: `hostPath type check failed: ${path} is not a ${t.replace('OrCreate', '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}` };
}
