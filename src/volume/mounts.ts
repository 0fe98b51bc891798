/**
 * Mounts of a container: `-v`, `--mount`, `--tmpfs` parsed and checked as Docker's CLI and daemon do
 * (parseMounts, pure but for the bind sources' existence). The volumes themselves: volumes.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { NAME_RE } from '../lib/ids.js';
import type { MountPoint } from '../store/containers.js';
import { parseVolumeOptions, type RequestedMount } from './volumes.js';

// Docker's -v modes (daemon/volume/mounts: linuxValidMountMode): each kind at most once.
const MODE_KINDS: ReadonlySet<string>[] = [
  new Set(['rw', 'ro']),
  new Set(['z', 'Z']),
  new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']),
  new Set(['nocopy']),
  new Set(['consistent', 'cached', 'delegated']),
  new Set(['U']), // Podman's: chown the source to the container's user at start
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


/** A mount's options as the shim takes them: `nocopy` (no copy-up from the image), `U` (chown at start). */
export const mountFlags = (mp: MountPoint): { nocopy: boolean; chown: boolean } => {
  const o = mp.Mode.split(',');
  return { nocopy: o.includes('nocopy'), chown: o.includes('U') };
};

/** `-v`: Docker's CLI (volumespec.Parse) and daemon (ParseMountRaw) rules and words. */
function parseVolume(v: string): RequestedMount {
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
    ...(isPath ? { makeSource: true } : {}),
  };
}

/** Docker's --mount value: comma-separated fields, each may be double-quoted (Go's encoding/csv). */
function csvFields(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i]!;
    if (quoted) {
      if (ch === '"' && spec[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(cur), (cur = '');
    else cur += ch;
  }
  if (quoted) throw new SkiffError('EINVAL', `invalid argument "${spec}" for "--mount" flag: parse error on line 1, column ${spec.length}: extraneous or missing " in quoted-field`);
  out.push(cur);
  return out;
}

const isTrue = (v: string | undefined, what: string): boolean => {
  if (v === undefined) return false;
  if (['true', '1', ''].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw new SkiffError('EINVAL', `invalid value for ${what}: ${v}`);
};

/** `-v SRC:DST[:OPTS]`, `--mount type=...,src=...,dst=...`, `--tmpfs DST[:OPTS]`. */
export function parseMounts(volumes: string[], mounts: string[], tmpfs: string[]): RequestedMount[] {
  const out: RequestedMount[] = volumes.map(parseVolume);
  for (const spec of mounts) {
    const kv = new Map<string, string>();
    const volumeOpts: string[] = [];
    for (const part of csvFields(spec)) {
      const eq = part.indexOf('=');
      const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      const val = eq < 0 ? undefined : part.slice(eq + 1);
      if (k === 'volume-opt') volumeOpts.push(val ?? '');
      else if (val === undefined && !['readonly', 'ro', 'volume-nocopy'].includes(k)) throw new SkiffError('EINVAL', `invalid field '${part}' must be a key=value pair`);
      else kv.set(k, val ?? 'true');
    }
    const type = kv.get('type') ?? 'volume';
    const raw = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
    if (!raw) throw new SkiffError('EINVAL', `invalid --mount '${spec}': target is required`);
    const dst = checkTarget(raw, type, '');
    const ro = isTrue(kv.get('readonly') ?? kv.get('ro'), 'readonly');
    if (type !== 'volume' && (volumeOpts.length || kv.has('volume-nocopy') || kv.has('volume-label'))) {
      throw new SkiffError('EINVAL', `invalid mount config for type "${type}": cannot mix 'volume-*' options with mount type '${type}'`);
    }
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
      const nocopy = isTrue(kv.get('volume-nocopy'), 'volume-nocopy');
      const src = kv.get('source') ?? kv.get('src') ?? '';
      out.push({
        Type: 'volume', Source: src, Destination: dst, Mode: nocopy ? 'nocopy' : '', RW: !ro, Propagation: '',
        ...(volumeOpts.length ? { volumeOptions: parseVolumeOptions(volumeOpts) } : {}),
      });
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
    if (mp.Type === 'bind' && !mp.makeSource && !fs.existsSync(mp.Source)) {
      throw new SkiffError('EINVAL', `invalid mount config for type "bind": bind source path does not exist: ${mp.Source}`);
    }
  }
  return out;
}
