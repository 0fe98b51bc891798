/**
 * Which scheme each insecure registry (loopback, listed, or --tls-verify=false) answered on, kept
 * in the runtime dir (forgotten at reboot): the next invocation goes straight to plain HTTP instead
 * of trying TLS first (~7 ms per invocation). Only a hint: the registry client checks it by use and
 * falls back to probing when the registry has changed. Best effort: a failed write is ignored.
 */
import path from 'node:path';
import { readJsonSync, writeFileAtomicSync } from './atomic.js';
import { dirs } from './layout.js';

export type Scheme = 'http' | 'https';

let cache: Record<string, Scheme> | undefined;
const file = (): string => path.join(dirs().runroot, 'registry-schemes.json');

function load(): Record<string, Scheme> {
  if (!cache) {
    try {
      cache = readJsonSync<Record<string, Scheme>>(file()) ?? {};
    } catch {
      cache = {};
    }
  }
  return cache;
}

export const schemeCache = {
  get(host: string): Scheme | undefined {
    const s = load()[host];
    return s === 'http' || s === 'https' ? s : undefined;
  },
  set(host: string, scheme: Scheme | undefined): void {
    const c = load();
    if (c[host] === scheme) return;
    if (scheme) c[host] = scheme;
    else delete c[host];
    try {
      writeFileAtomicSync(file(), JSON.stringify(c) + '\n', 0o600);
    } catch {
      /* a hint only */
    }
  },
};
