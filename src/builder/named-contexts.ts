/**
 * `--build-context NAME=VALUE`: named contexts, as BuildKit's. VALUE is a local directory (its own
 * .dockerignore applies) or `docker-image://REF`; other sources BuildKit knows (Git and HTTP URLs,
 * `oci-layout://`, `target:`) are refused. A Dockerfile reaches one by name where it names a stage
 * or an image: `FROM NAME`, `COPY --from=NAME`, `RUN --mount=from=NAME`; a stage whose own name is
 * a named context is replaced by that context (its instructions do not run).
 *
 * Names are compared as BuildKit compares them: normalised as image references and shown in the
 * familiar form without `:latest` (`alpine`, `docker.io/library/alpine:latest` and `alpine:latest`
 * are one name).
 */
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { familiar, parseReference } from '../oci/reference.js';

export type NamedContext = { name: string; kind: 'dir'; dir: string } | { name: string; kind: 'image'; ref: string };

/** A context name or a FROM/--from word as BuildKit looks it up; undefined when it is no reference at all. */
export function contextName(word: string): string | undefined {
  try {
    return familiar(parseReference(word)).replace(/:latest$/, '');
  } catch {
    return undefined;
  }
}

const IMAGE_SCHEME = 'docker-image://';

/** The `--build-context` values, by name (the last one of a name wins, as in buildx). */
export function parseBuildContexts(values: string[]): Map<string, NamedContext> {
  const out = new Map<string, NamedContext>();
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0) throw new SkiffError('EINVAL', `invalid context value: ${v}, expected key=value`);
    const key = v.slice(0, i);
    const value = v.slice(i + 1);
    let name: string;
    try {
      name = familiar(parseReference(key)).replace(/:latest$/, '');
    } catch (e) {
      throw new SkiffError('EINVAL', `invalid context name ${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (value.startsWith(IMAGE_SCHEME)) {
      const ref = value.slice(IMAGE_SCHEME.length);
      try {
        parseReference(ref);
      } catch (e) {
        throw new SkiffError('EINVAL', `invalid context ${key}: ${e instanceof Error ? e.message : String(e)}`);
      }
      out.set(name, { name, kind: 'image', ref });
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^git@|^target:/.test(value)) {
      throw new SkiffError('EINVAL', `invalid context ${key}=${value}: skiff supports a local directory or docker-image://REF as a named context`);
    } else if (value === '') {
      throw new SkiffError('EINVAL', `invalid context value: ${v}, expected key=value`);
    } else {
      out.set(name, { name, kind: 'dir', dir: path.resolve(value) });
    }
  }
  return out;
}
