/**
 * Service volume short syntax (`[SOURCE:]TARGET[:MODE]`) → the long form, as compose-go's
 * format.ParseVolume: a source starting with `.`, `/` or `~` (or a Windows drive) is a bind mount
 * (created if missing), any other source a named volume, no source an anonymous volume; modes `ro`,
 * `rw`, `nocopy`, `z`/`Z` (SELinux) and bind propagations.
 */
import { composeError } from './errors.js';
import type { JsonMap } from './tree.js';

export interface VolumeSpec {
  type: 'bind' | 'volume';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean; propagation?: string; selinux?: string };
  volume?: { nocopy?: boolean };
}

const PROPAGATIONS = new Set(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);

const isWindowsDrive = (buf: string, c: string): boolean => c === ':' && buf.length === 1 && /[A-Za-z]/.test(buf);

export function isFilePath(source: string): boolean {
  if (source === '') return false;
  if ('./~'.includes(source[0]!)) return true;
  if (source.startsWith('\\\\')) return true;
  return source.length > 1 && isWindowsDrive(source[0]!, source[1]!);
}

export function parseVolumeSpec(spec: string): VolumeSpec {
  if (spec.length === 0) throw composeError('invalid empty volume spec');
  if (spec.length <= 2) return { type: 'volume', target: spec };
  const v: { source?: string; target?: string; read_only?: boolean; nocopy?: boolean; propagation?: string; selinux?: string } = {};
  const fill = (buf: string, last: boolean): void => {
    if (buf === '') throw composeError(`invalid volume spec ${JSON.stringify(spec)}: empty section between colons`);
    if (v.source === undefined && last) {
      v.target = buf;
      return;
    }
    if (v.source === undefined) {
      v.source = buf;
      return;
    }
    if (v.target === undefined) {
      v.target = buf;
      return;
    }
    if (!last) throw composeError(`invalid volume spec ${JSON.stringify(spec)}: too many colons`);
    for (const opt of buf.split(',')) {
      if (opt === 'ro') v.read_only = true;
      else if (opt === 'rw') v.read_only = false;
      else if (opt === 'nocopy') v.nocopy = true;
      else if (PROPAGATIONS.has(opt)) v.propagation = opt;
      else if (opt === 'z' || opt === 'Z') v.selinux = opt;
    }
  };
  let buf = '';
  for (const c of spec) {
    if (isWindowsDrive(buf, c)) buf += c;
    else if (c === ':') {
      fill(buf, false);
      buf = '';
    } else buf += c;
  }
  fill(buf, true);
  const out: VolumeSpec = { type: v.source !== undefined && isFilePath(v.source) ? 'bind' : 'volume', target: v.target ?? '' };
  if (v.source !== undefined) out.source = v.source;
  if (v.read_only) out.read_only = true;
  if (out.type === 'bind') {
    out.bind = { create_host_path: true };
    if (v.propagation) out.bind.propagation = v.propagation;
    if (v.selinux) out.bind.selinux = v.selinux;
  } else {
    out.volume = v.nocopy ? { nocopy: true } : {};
  }
  return out;
}

export function volumeSpecToJson(v: VolumeSpec): JsonMap {
  return JSON.parse(JSON.stringify(v)) as JsonMap;
}
