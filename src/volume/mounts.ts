/**
 * Mounts of a container: `-v`, `--mount`, `--tmpfs` parsed and checked as Docker's CLI and daemon do
 * (parseMounts, pure but for the bind sources' existence). The volumes themselves: volumes.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { NAME_RE } from '../lib/ids.js';
import type { MountPoint } from '../store/containers.js';

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
