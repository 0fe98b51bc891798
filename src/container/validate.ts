/**
 * Values a container is made of, checked before anything of it is created (ARCHITECTURE.md,
 * "Container state"). Names and hostnames against the limits of where they end up (a file name in
 * the names index, the kernel's HOST_NAME_MAX), and every string of the record and the OCI spec for
 * NUL bytes: the shim's JSON parser and execve() cannot take one, so a NUL from an env file, a
 * seccomp profile or an image's config would otherwise fail the start after the container exists.
 */
import { SkiffError } from '../errors.js';
import { goQuote } from '../lib/strconv.js';
import { NAME_RE } from './names.js';

/** A name is a file name in containers/names/ (NAME_MAX bytes; names are ASCII). */
const NAME_MAX = 255;
/** The kernel's HOST_NAME_MAX: sethostname() refuses longer ones. */
const HOST_NAME_MAX = 64;

/** A container name for `create`/`run --name` and `rename` (Docker's words for bad characters). */
export function checkContainerName(name: string, given = name): void {
  if (!NAME_RE.test(name)) throw new SkiffError('EINVAL', `Invalid container name (${given}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (name.length > NAME_MAX) {
    throw new SkiffError('EINVAL', `Invalid container name (${given}): it is ${name.length} characters long, at most ${NAME_MAX} are allowed`);
  }
}

export function checkHostname(hostname: string): void {
  if (Buffer.byteLength(hostname) > HOST_NAME_MAX) {
    throw new SkiffError('EINVAL', `invalid hostname ${goQuote(hostname)}: it is longer than ${HOST_NAME_MAX} bytes (the kernel's limit)`);
  }
}

/** What a path in the record or spec is, in the user's words. */
function describe(where: string): string {
  const rules: [RegExp, string][] = [
    [/^(spec\.process\.env|record\.Config\.Env)\b/, 'environment variable'],
    [/^(spec\.process\.args|record\.(Path|Args|Config\.(Cmd|Entrypoint)))\b/, 'command'],
    [/^(spec\.process\.cwd|record\.Config\.WorkingDir)\b/, 'working directory'],
    [/^record\.Config\.User\b/, 'user'],
    [/^record\.Config\.Labels\b/, 'label'],
    [/^(spec\.hostname|record\.Config\.Hostname)\b/, 'hostname'],
    [/^(spec\.mounts|record\.(Mounts|HostConfig\.Binds))\b/, 'mount'],
    [/^spec\.linux\.seccomp\b/, 'seccomp profile value'],
    [/^record\.Config\.Healthcheck\b/, 'health check'],
  ];
  return rules.find(([re]) => re.test(where))?.[1] ?? `value of ${where}`;
}

/** The first string (key or value) of `v` holding a NUL byte, with its path. */
function findNul(v: unknown, where: string): { where: string; value: string } | undefined {
  if (typeof v === 'string') return v.includes('\0') ? { where, value: v } : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const hit = findNul(v[i], `${where}[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\0')) return { where: `${where}.${k}`, value: k };
      const hit = findNul(x, `${where}.${k}`);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Refuse a container whose record or spec holds a NUL byte anywhere (one line naming the value). */
export function refuseNul(parts: Record<string, unknown>): void {
  // JSON escapes a NUL as \u0000: one native pass over the text; the walk only to name what holds it
  if (!JSON.stringify(parts).includes('\\u0000')) return;
  for (const [name, v] of Object.entries(parts)) {
    const hit = findNul(v, name);
    if (hit) throw new SkiffError('EINVAL', `invalid ${describe(hit.where)} ${goQuote(hit.value)}: it contains a NUL byte`);
  }
}
