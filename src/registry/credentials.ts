/**
 * Credentials in Docker's client config format: $DOCKER_CONFIG/config.json or ~/.docker/config.json,
 * `auths[server].auth = base64(user:pass)`; Docker Hub's key is https://index.docker.io/v1/.
 * Podman's auth.json ($REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json) is read as a
 * fallback. Writes are atomic (temp file + rename, mode 0600) and keep every other key of the file
 * (credHelpers, credsStore, proxies, ...) as it was; credential helpers themselves are not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dockerConfigDir } from '../config.js';
import { SkiffError } from '../errors.js';
import { writeFileAtomicSync } from '../store/atomic.js';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  [k: string]: unknown;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  [k: string]: unknown;
}

/** The key Docker uses for Docker Hub. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Where `docker login` keeps credentials. */
export const dockerConfigFile = (): string => path.join(dockerConfigDir(), 'config.json');

/** A server as given (`https://host:port/v1/`, `host`, `index.docker.io`) → its registry host, docker.io for the Hub. */
function hostOf(server: string): string {
  let s = server.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.replace(/\/.*$/, '');
  return HUB_HOSTS.has(s) ? 'docker.io' : s;
}

/** The config.json key for a server: Docker Hub's historical URL, otherwise the host[:port]. */
export const credentialKey = (server: string): string => (hostOf(server) === 'docker.io' ? DOCKER_HUB_KEY : hostOf(server));

function readAuthFile(file: string, strict: boolean): AuthFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || !strict) return undefined;
    throw new SkiffError('EINVAL', `cannot read ${file}: ${(e as Error).message}`);
  }
  if (!text.trim()) return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as AuthFile;
  } catch (e) {
    if (!strict) return undefined;
    throw new SkiffError('EINVAL', `cannot parse ${file}: ${(e as Error).message} (fix or remove the file, then retry)`);
  }
}

function decode(e: AuthEntry | undefined): Credentials | undefined {
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.auth === 'string' && e.auth) {
    const dec = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username) return { username: e.username, password: e.password };
  return undefined;
}

/** Docker's lookup: the exact key first, then any key whose host is the server's host. */
function lookup(file: AuthFile | undefined, server: string): Credentials | undefined {
  const auths = file?.auths;
  if (!auths || typeof auths !== 'object') return undefined;
  const exact = decode(auths[credentialKey(server)]);
  if (exact) return exact;
  const host = hostOf(server);
  for (const [k, v] of Object.entries(auths)) {
    if (hostOf(k) === host) {
      const c = decode(v);
      if (c) return c;
    }
  }
  return undefined;
}

/** Podman's auth files, in the order podman reads them. */
function podmanAuthFiles(): string[] {
  const files: string[] = [];
  if (process.env.REGISTRY_AUTH_FILE) files.push(process.env.REGISTRY_AUTH_FILE);
  if (process.env.XDG_RUNTIME_DIR) files.push(path.join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  return files;
}

/** Stored credentials for a registry (docker.io, quay.io, localhost:5000...), or undefined. */
export function getCredentials(registry: string): Credentials | undefined {
  for (const file of [dockerConfigFile(), ...podmanAuthFiles()]) {
    const c = lookup(readAuthFile(file, false), registry);
    if (c) return c;
  }
  return undefined;
}

/** Write through a symlinked config.json (dotfile managers) rather than replacing the link. */
function targetOf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function writeAuthFile(file: string, doc: AuthFile): void {
  const target = targetOf(file);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(target, JSON.stringify(doc, null, '\t') + '\n', 0o600);
}

/** Save credentials for a registry in Docker's config.json (replacing what was there for it). */
export function storeCredentials(registry: string, username: string, password: string): void {
  if (!username || username.includes(':')) throw new SkiffError('EINVAL', `invalid username "${username}" for ${registry}: it must be non-empty and without ':'`);
  const file = dockerConfigFile();
  const doc = readAuthFile(file, true) ?? {};
  const key = credentialKey(registry);
  const auths: Record<string, AuthEntry> = typeof doc.auths === 'object' && doc.auths !== null ? { ...doc.auths } : {};
  // Other spellings of the same registry would shadow or contradict the new entry.
  for (const k of Object.keys(auths)) if (k !== key && hostOf(k) === hostOf(registry)) delete auths[k];
  auths[key] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  doc.auths = auths;
  writeAuthFile(file, doc);
}

/** Forget the credentials for a registry; false when there were none in config.json. */
export function removeCredentials(registry: string): boolean {
  const file = dockerConfigFile();
  const doc = readAuthFile(file, true);
  if (!doc?.auths || typeof doc.auths !== 'object') return false;
  const host = hostOf(registry);
  const keys = Object.keys(doc.auths).filter((k) => k === credentialKey(registry) || hostOf(k) === host);
  if (!keys.length) return false;
  for (const k of keys) delete doc.auths[k];
  writeAuthFile(file, doc);
  return true;
}
