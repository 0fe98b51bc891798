/**
 * Image references, normalised exactly as Docker's distribution/reference does
 * (ParseNormalizedNamed + TagNameOnly): `busybox` → docker.io/library/busybox:latest.
 */
import { SkiffError } from '../errors.js';

export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

const invalid = (s: string, why = 'invalid reference format'): SkiffError => new SkiffError('EINVAL', `${why}: "${s}"`);

export function parseReference(input: string): Reference {
  const s = input.trim();
  if (!s) throw invalid(s);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(s, 'invalid reference format: invalid digest');
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid(s, 'invalid reference format: invalid checksum digest length');
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  const lastSlash = rest.lastIndexOf('/');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(s);
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw invalid(s);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (path !== path.toLowerCase()) throw invalid(s, 'invalid reference format: repository name must be lowercase');
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!path || !path.split('/').every((c) => PATH_COMPONENT.test(c))) throw invalid(s);
  if (domain.length + 1 + path.length > 255) throw invalid(s, 'invalid reference format: repository name must not be more than 255 characters');
  if (!tag && !digest) tag = 'latest';
  return { domain, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** domain/path */
export const repoName = (r: Reference): string => `${r.domain}/${r.path}`;

/** Full form: docker.io/library/busybox:latest, or name@digest. */
export function canonical(r: Reference): string {
  return `${repoName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The short form Docker prints: busybox:latest, foo/bar:1, localhost:5000/x:latest. */
export function familiar(r: Reference): string {
  let name = repoName(r);
  if (r.domain === 'docker.io') name = r.path.startsWith('library/') ? r.path.slice(8) : r.path;
  return `${name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Plain HTTP is allowed for loopback registries and those listed in SKIFF_INSECURE_REGISTRIES. */
export function isInsecureRegistry(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return true;
  return (process.env.SKIFF_INSECURE_REGISTRIES ?? '').split(',').map((x) => x.trim()).filter(Boolean).includes(domain);
}
