/**
 * A distribution-v2 registry client on node:http(s). Handles Bearer token auth (WWW-Authenticate
 * realm/service/scope, tokens cached per scope) and Basic auth, redirects to blob storage, retries
 * of idempotent requests with backoff, and maps failures to one-line SkiffErrors.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { sha256Digest, verifyBuffer } from '../image/digest.js';
import { MANIFEST_ACCEPT } from '../image/media.js';
import type { Credentials } from './credentials.js';

export interface ClientOptions {
  insecure?: boolean;
  credentials?: Credentials;
  userAgent?: string;
}

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8 });

async function readBody(r: Readable, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of r) {
    n += (c as Buffer).length;
    if (n > limit) throw new SkiffError('EREGISTRY', 'registry response too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const sp = h.indexOf(' ');
  const scheme = (sp < 0 ? h : h.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)="([^"]*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(h))) params[m[1]!] = m[2]!;
  return { scheme, params };
}

export class RegistryClient {
  readonly domain: string;
  private readonly host: string;
  private readonly opts: ClientOptions;
  private scheme: 'http' | 'https';
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(domain: string, opts: ClientOptions = {}) {
    this.domain = domain;
    this.host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    this.opts = opts;
    this.scheme = opts.insecure ? 'http' : 'https';
  }

  private authHeader(scope: string): string | undefined {
    const t = this.tokens.get(scope) ?? this.tokens.get('*');
    if (t) return `Bearer ${t}`;
    if (this.basic && this.opts.credentials) {
      return `Basic ${Buffer.from(`${this.opts.credentials.username}:${this.opts.credentials.password}`).toString('base64')}`;
    }
    return undefined;
  }

  private raw(method: string, url: URL, headers: Record<string, string>, body?: Buffer | Readable): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(
        url,
        {
          method,
          headers: { 'User-Agent': this.opts.userAgent ?? 'skiff/0.1', ...headers },
          agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
          timeout: 60_000,
        },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    });
  }

  private netError(e: unknown): SkiffError {
    const err = e as NodeJS.ErrnoException;
    const msg = err.message || String(e);
    if (/certificate|SSL|TLS|self.signed|EPROTO/i.test(msg) || (err.code ?? '').startsWith('ERR_TLS') || err.code === 'EPROTO') {
      return new SkiffError('ENET', `TLS handshake with registry ${this.domain} failed: ${msg} (use --tls-verify=false for a registry without valid TLS)`);
    }
    return new SkiffError('ENET', `registry ${this.domain} is unreachable: ${msg}`);
  }

  /** One request with auth, redirects and retries. `body` factory so a retry can resend it. */
  async request(
    method: string,
    pathOrUrl: string,
    o: { scope: string; headers?: Record<string, string>; body?: () => Buffer | Readable; retry?: boolean } ,
  ): Promise<Resp> {
    const retry = o.retry ?? (method === 'GET' || method === 'HEAD');
    let url = new URL(pathOrUrl.startsWith('http') ? pathOrUrl : `${this.scheme}://${this.host}${pathOrUrl}`);
    let authTried = false;
    for (let attempt = 0, redirects = 0; ; ) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const auth = url.host === this.host ? this.authHeader(o.scope) : undefined;
      if (auth) headers.Authorization = auth;
      let res: Resp;
      try {
        res = await this.raw(method, url, headers, o.body?.());
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (retry && RETRY_CODES.has(code) && attempt < 2) {
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt++));
          continue;
        }
        throw this.netError(e);
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location && redirects++ < 5) {
        res.body.resume();
        url = new URL(res.headers.location, url);
        continue;
      }
      if (res.status === 401 && !authTried && res.headers['www-authenticate']) {
        res.body.resume();
        authTried = true;
        await this.authenticate(String(res.headers['www-authenticate']), o.scope);
        continue;
      }
      if (retry && RETRY_STATUS.has(res.status) && attempt < 2) {
        res.body.resume();
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt++));
        continue;
      }
      return res;
    }
  }

  private async authenticate(challenge: string, scope: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      if (!this.opts.credentials) throw new SkiffError('EAUTH', `unauthorized: authentication required by ${this.domain} (run 'skiff login ${this.domain}')`);
      this.basic = true;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new SkiffError('EAUTH', `unsupported authentication challenge from ${this.domain}: ${challenge}`);
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    const sc = params.scope ?? (scope !== '*' ? scope : undefined);
    if (sc) u.searchParams.set('scope', sc);
    const headers: Record<string, string> = {};
    const c = this.opts.credentials;
    if (c) headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    let res: Resp;
    try {
      res = await this.raw('GET', u, headers);
    } catch (e) {
      throw this.netError(e);
    }
    const body = await readBody(res.body);
    if (res.status === 401 || res.status === 403) throw new SkiffError('EAUTH', `unauthorized: incorrect username or password for ${this.domain}`);
    if (res.status !== 200) throw new SkiffError('EAUTH', `token request to ${u.host} failed: HTTP ${res.status}`);
    const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
    const token = j.token ?? j.access_token;
    if (!token) throw new SkiffError('EAUTH', `token server ${u.host} returned no token`);
    this.tokens.set(scope, token);
  }

  private async fail(res: Resp, what: string): Promise<never> {
    const body = (await readBody(res.body).catch(() => Buffer.alloc(0))).toString('utf8');
    let detail = '';
    try {
      const j = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
      detail = (j.errors ?? []).map((e) => `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`).join('; ');
    } catch {
      detail = body.trim().split('\n')[0] ?? '';
    }
    if (res.status === 401) throw new SkiffError('EAUTH', `${what}: unauthorized: authentication required (run 'skiff login ${this.domain}')`);
    if (res.status === 403) throw new SkiffError('EAUTH', `${what}: denied: requested access to the resource is denied`);
    if (res.status === 404) throw new SkiffError('ENOIMAGE', `${what}: not found${detail ? `: ${detail}` : ''}`);
    throw new SkiffError('EREGISTRY', `${what}: registry ${this.domain} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`);
  }

  async ping(): Promise<void> {
    const res = await this.request('GET', '/v2/', { scope: '*' });
    res.body.resume();
    if (res.status === 401) throw new SkiffError('EAUTH', `login to ${this.domain} failed: unauthorized: incorrect username or password`);
    if (res.status !== 200) await this.fail(res, `login to ${this.domain}`);
  }

  async getManifest(repo: string, reference: string): Promise<{ mediaType: string; digest: string; bytes: Buffer }> {
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, {
      scope: `repository:${repo}:pull`,
      headers: { Accept: MANIFEST_ACCEPT.join(', ') },
    });
    if (res.status === 404) {
      res.body.resume();
      throw new SkiffError('ENOIMAGE', `manifest for ${this.domain}/${repo}:${reference} not found: manifest unknown`);
    }
    if (res.status !== 200) await this.fail(res, `pull ${this.domain}/${repo}:${reference}`);
    const bytes = await readBody(res.body);
    const digest = reference.includes(':') ? reference : sha256Digest(bytes);
    if (reference.includes(':')) verifyBuffer(bytes, reference, undefined, `manifest ${reference}`);
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { mediaType, digest, bytes };
  }

  async getBlob(repo: string, digest: string): Promise<{ stream: Readable; size: number }> {
    const res = await this.request('GET', `/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull` });
    if (res.status !== 200) await this.fail(res, `blob ${digest} of ${this.domain}/${repo}`);
    return { stream: res.body, size: Number(res.headers['content-length'] ?? -1) };
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull,push` });
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, `blob ${digest} of ${this.domain}/${repo}`);
  }

  /** Upload a blob unless present; cross-repo mount when `mountFrom` names a repo that has it. */
  async uploadBlob(
    repo: string,
    digest: string,
    size: number,
    open: () => Readable,
    o: { mountFrom?: string; chunkSize?: number } = {},
  ): Promise<'mounted' | 'exists' | 'uploaded'> {
    if (await this.blobExists(repo, digest)) return 'exists';
    const scope = `repository:${repo}:pull,push`;
    const q = o.mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(o.mountFrom)}` : '';
    let res = await this.request('POST', `/v2/${repo}/blobs/uploads/${q}`, { scope, headers: { 'Content-Length': '0' }, retry: false });
    res.body.resume();
    if (res.status === 201) return 'mounted';
    if (res.status !== 202) await this.fail(res, `push ${this.domain}/${repo}`);
    let location = new URL(String(res.headers.location), `${this.scheme}://${this.host}`).toString();
    if (o.chunkSize && o.chunkSize > 0) {
      let offset = 0;
      for await (const chunk of chunked(open(), o.chunkSize)) {
        res = await this.request('PATCH', location, {
          scope,
          retry: false,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length), 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
          body: () => chunk,
        });
        res.body.resume();
        if (res.status !== 202) await this.fail(res, `push ${this.domain}/${repo}`);
        offset += chunk.length;
        location = new URL(String(res.headers.location), `${this.scheme}://${this.host}`).toString();
      }
      const u = new URL(location);
      u.searchParams.set('digest', digest);
      res = await this.request('PUT', u.toString(), { scope, retry: false, headers: { 'Content-Length': '0' } });
    } else {
      const u = new URL(location);
      u.searchParams.set('digest', digest);
      res = await this.request('PUT', u.toString(), {
        scope,
        retry: false,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
        body: open,
      });
    }
    if (res.status !== 201) await this.fail(res, `push ${this.domain}/${repo}`);
    res.body.resume();
    return 'uploaded';
  }

  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      scope: `repository:${repo}:pull,push`,
      retry: false,
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
      body: () => bytes,
    });
    if (res.status !== 201) await this.fail(res, `push ${this.domain}/${repo}:${reference}`);
    res.body.resume();
    return String(res.headers['docker-content-digest'] ?? sha256Digest(bytes));
  }

  async listTags(repo: string): Promise<string[]> {
    const res = await this.request('GET', `/v2/${repo}/tags/list`, { scope: `repository:${repo}:pull` });
    if (res.status !== 200) await this.fail(res, `tags of ${this.domain}/${repo}`);
    return ((JSON.parse((await readBody(res.body)).toString('utf8')) as { tags?: string[] }).tags ?? []);
  }
}

async function* chunked(src: Readable, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const c of src) {
    buf = Buffer.concat([buf, c as Buffer]);
    while (buf.length >= size) {
      yield buf.subarray(0, size);
      buf = buf.subarray(size);
    }
  }
  if (buf.length) yield buf;
}
