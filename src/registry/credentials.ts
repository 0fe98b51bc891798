/**
 * Credentials in Docker's client config format: $DOCKER_CONFIG/config.json or ~/.docker/config.json,
 * `auths[server].auth = base64(user:pass)`; Docker Hub's key is https://index.docker.io/v1/.
 * Podman's $XDG_RUNTIME_DIR/containers/auth.json is read as a fallback. Written atomically, mode 0600,
 * keeping every other key (credHelpers, credsStore...) as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dockerConfigDir } from '../config.js';
import { writeFileAtomicSync } from '../store/atomic.js';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  [k: string]: unknown;
}

const HUB_KEY = 'https://index.docker.io/v1/';
const keyFor = (server: string): string => (server === 'docker.io' ? HUB_KEY : server);
const configFile = (): string => path.join(dockerConfigDir(), 'config.json');

function readAuthFile(file: string): AuthFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as AuthFile;
  } catch {
    return undefined;
  }
}

function lookup(file: AuthFile | undefined, server: string): Credentials | undefined {
  const auths = file?.auths ?? {};
  const keys = [keyFor(server), server, `https://${server}`, `http://${server}`];
  for (const k of keys) {
    const e = auths[k];
    if (!e) continue;
    if (e.auth) {
      const dec = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1) };
    }
    if (e.username && e.password) return { username: e.username, password: e.password };
  }
  return undefined;
}

export function getCredentials(server: string): Credentials | undefined {
  const own = lookup(readAuthFile(configFile()), server);
  if (own) return own;
  const rt = process.env.XDG_RUNTIME_DIR;
  return rt ? lookup(readAuthFile(path.join(rt, 'containers', 'auth.json')), server) : undefined;
}

export function storeCredentials(server: string, username: string, password: string): void {
  const file = configFile();
  const doc = readAuthFile(file) ?? {};
  doc.auths = { ...(doc.auths ?? {}), [keyFor(server)]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, JSON.stringify(doc, null, '\t') + '\n', 0o600);
}

export function removeCredentials(server: string): boolean {
  const file = configFile();
  const doc = readAuthFile(file);
  if (!doc?.auths || !doc.auths[keyFor(server)]) return false;
  delete doc.auths[keyFor(server)];
  writeFileAtomicSync(file, JSON.stringify(doc, null, '\t') + '\n', 0o600);
  return true;
}
