/**
 * ADD <url>: one GET, following redirects as Docker's builder does (at most 10). HTTPS verifies with
 * node's roots plus the extra CA file bin/skiff hands over (src/registry/trust.ts), the same trust a
 * registry gets, so `build` starts without NODE_EXTRA_CA_CERTS like every other command.
 */
import type http from 'node:http';
import { SkiffError } from '../errors.js';
import { lazyBuiltin } from '../lib/lazy.js';
import { registryCa } from '../registry/trust.js';

const httpMod = lazyBuiltin<typeof import('node:http')>('node:http');
const httpsMod = lazyBuiltin<typeof import('node:https')>('node:https');

export interface Download {
  bytes: Buffer;
  lastModified?: string;
}

const MAX_REDIRECTS = 10;

function get(url: URL): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const opts = { headers: { 'user-agent': 'skiff' } };
    const req = url.protocol === 'https:'
      ? httpsMod().get(url, { ...opts, ca: registryCa() }, resolve)
      : httpMod().get(url, opts, resolve);
    req.on('error', reject);
  });
}

export async function download(url: string): Promise<Download> {
  let u = new URL(url);
  for (let hop = 0; ; hop++) {
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new SkiffError('EINVAL', `failed to download ${url}: unsupported protocol ${u.protocol}`);
    }
    let res: http.IncomingMessage;
    try {
      res = await get(u);
    } catch (e) {
      throw new SkiffError('ENET', `failed to download ${url}: ${(e as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new SkiffError('ENET', `failed to download ${url}: stopped after ${MAX_REDIRECTS} redirects`);
      u = new URL(res.headers.location, u);
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw new SkiffError('ENET', `failed to download ${url}: ${status} ${res.statusMessage ?? ''}`.trimEnd());
    }
    const parts: Buffer[] = [];
    try {
      for await (const chunk of res) parts.push(chunk as Buffer);
    } catch (e) {
      throw new SkiffError('ENET', `failed to download ${url}: ${(e as Error).message}`);
    }
    const lm = res.headers['last-modified'];
    return { bytes: Buffer.concat(parts), ...(lm ? { lastModified: lm } : {}) };
  }
}
