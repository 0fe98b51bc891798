/**
 * Image references, normalised exactly as Docker's distribution/reference does
 * (ParseNormalizedNamed + TagNameOnly): `busybox` → docker.io/library/busybox:latest.
 *
 * Grammar (distribution/reference regexp.go):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]        host := domain-name | "[" ipv6 "]"
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := [._] | "__" | "-"+
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex{32,}  (then checked by go-digest)
 * The first component is a registry when it contains "." or ":", is "localhost", or has an
 * uppercase letter; otherwise the registry is docker.io and one-component names get "library/".
 */
import { SkiffError } from '../errors.js';
import { digestProblem } from './digest.js';

export interface Reference {
  /** Registry host[:port]; docker.io for Docker Hub. */
  domain: string;
  /** Repository path in the registry (library/busybox). */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;

const invalid = (input: string, why?: string): SkiffError =>
  new SkiffError('EINVAL', `invalid reference format${why ? `: ${why}` : ''}: "${input}"`);

/** Split `[domain/]remainder` as Docker's splitDockerDomain does (remainder still carries tag/digest). */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1) {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  } else {
    const first = name.slice(0, i);
    if (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first) [domain, remainder] = [DEFAULT_DOMAIN, name];
    else [domain, remainder] = [first, name.slice(i + 1)];
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parse and normalise a user-supplied image reference. A reference without tag and digest gets
 * `latest`. Throws EINVAL with Docker's wording (`invalid reference format...`) plus the input.
 */
export function parseReference(input: string): Reference {
  if (IDENTIFIER.test(input)) {
    throw new SkiffError('EINVAL', `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDomain(input);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep >= 0 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) throw invalid(input, 'repository name must be lowercase');

  // Parse(domain + "/" + remainder): split off @digest, then :tag (a colon after the last slash).
  let rest = remainder;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input);
  }
  const path = rest;
  if (!DOMAIN.test(domain) || !path.split('/').every((c) => PATH_COMPONENT.test(c))) throw invalid(input);
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (digest) {
    const problem = digestProblem(digest);
    if (problem) throw invalid(input, problem);
  }
  if (!tag && !digest) tag = 'latest';
  return { domain, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** domain/path: docker.io/library/busybox */
export const repoName = (r: Pick<Reference, 'domain' | 'path'>): string => `${r.domain}/${r.path}`;

/** The repository as Docker prints it: busybox, foo/bar, localhost:5000/x. */
export function familiarName(r: Pick<Reference, 'domain' | 'path'>): string {
  if (r.domain !== DEFAULT_DOMAIN) return repoName(r);
  return r.path.startsWith(OFFICIAL_PREFIX) && r.path.indexOf('/', OFFICIAL_PREFIX.length) === -1
    ? r.path.slice(OFFICIAL_PREFIX.length)
    : r.path;
}

const suffix = (r: Reference): string => `${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;

/** Full form: docker.io/library/busybox:latest, name@digest, name:tag@digest. */
export const canonical = (r: Reference): string => `${repoName(r)}${suffix(r)}`;

/** The short form Docker prints: busybox:latest, foo/bar:1, localhost:5000/x:latest. */
export const familiar = (r: Reference): string => `${familiarName(r)}${suffix(r)}`;

/** The tag or digest to ask a registry for (digest wins when both are given, as in Docker). */
export const registryReference = (r: Reference): string => r.digest ?? r.tag ?? 'latest';

/**
 * Whether plain HTTP / unverified TLS is acceptable for `domain` without being asked:
 * localhost and loopback addresses (127.0.0.0/8, ::1), and hosts listed in SKIFF_INSECURE_REGISTRIES
 * (comma-separated, `host` or `host:port`). A command's `--tls-verify=false` is the caller's to add.
 */
export function isInsecureRegistry(domain: string): boolean {
  const d = domain.toLowerCase();
  const host = d.startsWith('[') ? d.slice(1, d.indexOf(']')) : d.replace(/:\d+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)) return true;
  const listed = (process.env.SKIFF_INSECURE_REGISTRIES ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  return listed.includes(d) || listed.includes(host);
}
