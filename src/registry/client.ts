/**
 * A distribution-v2 (OCI distribution-spec) registry client on node:http(s) with keep-alive agents.
 *
 * - Scheme: https with verified TLS. An insecure registry (loopback, listed, or --tls-verify=false)
 *   is tried over https without verification first and over plain http when it does not speak
 *   TLS, as Docker and podman do; the answer is remembered per host for the process, and across
 *   invocations through `schemeCache` (a hint: a remembered http that fails is forgotten and
 *   TLS is probed again).
 * - Auth: on 401 the WWW-Authenticate challenge decides: Bearer → a token from the realm (Basic
 *   credentials when we have some), cached per scope set until it expires; Basic → credentials
 *   on every request. Once a Bearer challenge is known, tokens for new scopes are fetched up front.
 * - Redirects (blob storage) are followed without sending our Authorization elsewhere.
 * - Idempotent requests are retried 3 times with backoff (200 ms base) on ECONNRESET / ETIMEDOUT /
 *   429 / 502 / 503 / 504; blob downloads resume with a Range request where they broke off.
 * - Timeouts: 10 s to connect (TCP + TLS), 60 s of silence on a connection.
 * - Every failure is one SkiffError line naming the repository and what to do.
 */
import http from 'node:http';
import type https from 'node:https';
import type net from 'node:net';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { SkiffError } from '../errors.js';
import { digestOf, parseDigest, sha256Digest, verifyBuffer } from '../oci/digest.js';
import { MANIFEST_ACCEPT } from '../oci/media.js';
import { familiarName } from '../oci/reference.js';
import type { Credentials } from './credentials.js';
import { registryCa } from './trust.js';
import { lazyBuiltin } from '../lib/lazy.js';

/** node:https (with node:tls, ~4 ms to load) only for a registry that speaks TLS: a plain-HTTP one remembered in the scheme cache never loads it. */
const httpsModule = lazyBuiltin<typeof import('node:https')>('node:https');

export interface ClientOptions {
  /** Allow plain HTTP and unverified TLS for this registry. */
  insecure?: boolean;
  credentials?: Credentials;
  userAgent?: string;
  /** Milliseconds; for tests. */
  connectTimeout?: number;
  idleTimeout?: number;
  retryBase?: number;
  /** Remembers across invocations which scheme an insecure registry speaks (a hint, checked by use). */
  schemeCache?: { get(host: string): 'http' | 'https' | undefined; set(host: string, scheme: 'http' | 'https' | undefined): void };
}

export interface ManifestResponse {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

export interface ManifestHead {
  mediaType: string;
  digest: string;
  size: number;
}

export type UploadResult = 'mounted' | 'exists' | 'uploaded';

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

/** Who is doing what, for messages: `pull access denied for busybox: ...`. */
interface Op {
  action: 'pull' | 'push' | 'login' | 'list tags of';
  name: string;
}

interface RequestOptions {
  op: Op;
  scopes: string[];
  headers?: Record<string, string>;
  /** A factory, so a retry or a re-authentication can send the body again. */
  body?: () => Buffer | Readable;
  /** Retry on transient failures (idempotent requests only). */
  retry?: boolean;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED']);
const ATTEMPTS = 3;
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_SMALL_BODY = 1024 * 1024;
const DEFAULT_USER_AGENT = 'skiff/0.1';

let verifying: https.Agent | undefined;
let noVerify: https.Agent | undefined;
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  /** made at first use: its trust store may load extra CA certificates (trust.ts) */
  get https(): https.Agent {
    return (verifying ??= new (httpsModule().Agent)({ keepAlive: true, maxSockets: 16, ca: registryCa() }));
  },
  /** verifies nothing, so it needs no trust store: `ca: []` spares loading node's roots (~33 ms), which
   *  a TLS probe of a plain-HTTP insecure registry would otherwise pay on every pull */
  get httpsNoVerify(): https.Agent {
    return (noVerify ??= new (httpsModule().Agent)({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false, ca: [] }));
  },
};

/** Per process: which scheme an insecure registry turned out to speak. */
const schemeOf = new Map<string, 'http' | 'https'>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One line for any transport error (AggregateError from happy eyeballs, OpenSSL's multi-part messages). */
function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { errors?: Error[]; reason?: string };
  let m = err?.message || (Array.isArray(err?.errors) && err.errors.length ? err.errors.map((x) => x.message).join('; ') : '') || err?.code || String(e);
  if (/wrong version number|packet length too long/i.test(m)) m = 'the server does not speak TLS (wrong version number)';
  // "write EPROTO 80AC...:error:0A00010B:SSL routines:ssl3_get_record:reason:file:line:" → reason
  const ssl = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(m);
  if (ssl) m = ssl[1]!;
  return m.replace(/\s*\n\s*/g, ' ').replace(/[\s:]+$/, '').trim();
}

function isTlsError(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? '';
  return code === 'EPROTO' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.startsWith('CERT_') ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(code) || /certificate|ssl|tls|wrong version number/i.test(err?.message ?? '');
}

async function readBody(r: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of r) {
      n += (c as Buffer).length;
      if (n > limit) {
        r.destroy();
        throw new SkiffError('EREGISTRY', `${what} is larger than ${limit} bytes: refusing it`);
      }
      chunks.push(c as Buffer);
    }
  } catch (e) {
    throw e instanceof SkiffError ? e : new SkiffError('ENET', `reading ${what} failed: ${errText(e)} (retry)`);
  }
  return Buffer.concat(chunks);
}

/** `Bearer realm="...",service="...",scope="..."`, `Basic realm="..."`: the first challenge we can answer. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const found: { scheme: string; params: Record<string, string> }[] = [];
  let s = header.trim();
  while (s.length) {
    // A parameter (`key=value` or `key="value"`) belongs to the current scheme; a bare token starts a new one.
    const param = /^([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/.exec(s);
    if (param && found.length) {
      found[found.length - 1]!.params[param[1]!.toLowerCase()] = (param[2] ?? param[3] ?? '').replace(/\\(.)/g, '$1');
      s = s.slice(param[0].length);
      continue;
    }
    const m = /^([A-Za-z][\w!#$%&'*+.^`|~-]*)\s*,?\s*/.exec(s);
    if (!m) break;
    found.push({ scheme: m[1]!.toLowerCase(), params: {} });
    s = s.slice(m[0].length);
  }
  return found.find((c) => c.scheme === 'bearer') ?? found.find((c) => c.scheme === 'basic') ?? found[0] ?? { scheme: '', params: {} };
}

/** The registry's `{errors:[{code,message}]}` as `manifest unknown: manifest unknown` → `manifest unknown`. */
function errorDetail(body: string): { text: string; codes: string[] } {
  try {
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    if (Array.isArray(j.errors) && j.errors.length) {
      const parts = j.errors.map((e) => {
        const code = (e.code ?? '').toLowerCase().replace(/_/g, ' ');
        const msg = (e.message ?? '').trim();
        return !msg || msg.toLowerCase() === code ? code : code ? `${code}: ${msg}` : msg;
      });
      return { text: parts.join('; '), codes: j.errors.map((e) => (e.code ?? '').toUpperCase()) };
    }
    // Token servers: Docker Hub's {"details": ...}, OAuth's {"error_description": ...}.
    const o = j as Record<string, unknown>;
    for (const k of ['details', 'error_description', 'message', 'error']) {
      if (typeof o[k] === 'string' && o[k]) return { text: (o[k] as string).trim().split('\n')[0]!, codes: [] };
    }
  } catch {
    /* not JSON */
  }
  const line = body.trim().split('\n')[0] ?? '';
  return { text: line.length > 200 ? `${line.slice(0, 200)}...` : line, codes: [] };
}

function contentType(h: http.IncomingHttpHeaders): string {
  return String(h['content-type'] ?? '').split(';')[0]!.trim();
}

export class RegistryClient {
  readonly domain: string;
  private readonly host: string;
  private readonly opts: ClientOptions;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly pendingTokens = new Map<string, Promise<void>>();
  private bearer: Record<string, string> | undefined;
  private basic = false;

  constructor(domain: string, opts: ClientOptions = {}) {
    this.domain = domain;
    this.host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    this.opts = opts;
  }

  private get scheme(): 'http' | 'https' {
    return this.opts.insecure ? (schemeOf.get(this.host) ?? this.opts.schemeCache?.get(this.host) ?? 'https') : 'https';
  }

  private url(path: string): URL {
    return new URL(`${this.scheme}://${this.host}${path}`);
  }

  private nameOf(repo: string): string {
    return familiarName({ domain: this.domain, path: repo });
  }

  private loginHint(): string {
    return this.opts.credentials
      ? `(check the credentials: run 'skiff login ${this.domain}')`
      : `(run 'skiff login ${this.domain}')`;
  }

  /* ------------------------------------------------------------ transport */

  private raw(method: string, url: URL, headers: Record<string, string>, body?: Buffer | Readable): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const tls = url.protocol === 'https:';
      const agent = !tls ? agents.http : this.opts.insecure ? agents.httpsNoVerify : agents.https;
      const req = (tls ? httpsModule() : http).request(url, {
        method,
        headers: { 'User-Agent': this.opts.userAgent ?? DEFAULT_USER_AGENT, ...headers },
        agent,
        timeout: this.opts.idleTimeout ?? 60_000,
      });
      req.on('socket', (sock: net.Socket) => {
        if (!sock.connecting) return;
        const limit = this.opts.connectTimeout ?? 10_000;
        const timer = setTimeout(() => {
          req.destroy(Object.assign(new Error(`connect ETIMEDOUT ${url.host} (no answer within ${limit / 1000} s)`), { code: 'ETIMEDOUT' }));
        }, limit);
        sock.once(tls ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        sock.once('close', () => clearTimeout(timer));
      });
      req.on('timeout', () => {
        req.destroy(Object.assign(new Error(`${method} ${url.host}: no data for ${(this.opts.idleTimeout ?? 60_000) / 1000} s`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', reject);
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        // A body that is not the size announced fails here, rather than leave the registry waiting
        // for bytes that never come (or send it more than it asked for).
        const announced = headers['Content-Length'];
        const src = announced === undefined ? body : body.pipe(new LengthCheck(Number(announced), url.host));
        const onError = (e: Error): void => {
          req.destroy(e instanceof SkiffError ? e : new SkiffError('EINVAL', `reading the content to send to ${this.domain} failed: ${errText(e)}`));
        };
        body.on('error', onError);
        if (src !== body) src.on('error', onError);
        src.pipe(req);
      }
    });
  }

  private netError(e: unknown, url?: URL): SkiffError {
    if (e instanceof SkiffError) return e;
    const msg = errText(e);
    const where = url && url.host !== this.host ? `${url.host} (for registry ${this.domain})` : `registry ${this.domain}`;
    if (isTlsError(e)) {
      return new SkiffError('ENET', `TLS connection to ${where} failed: ${msg} (use --tls-verify=false for a registry without valid TLS)`);
    }
    return new SkiffError('ENET', `${where} is unreachable: ${msg}`);
  }

  private retryDelay(attempt: number, res?: Resp): number {
    const ra = res ? Number(res.headers['retry-after']) : NaN;
    if (Number.isFinite(ra) && ra >= 0 && ra <= 30) return ra * 1000;
    return (this.opts.retryBase ?? 200) * 2 ** attempt;
  }

  /** One request with auth, redirects, scheme fallback and retries. */
  private async request(method: string, target: string | URL, o: RequestOptions): Promise<Resp> {
    const retry = o.retry ?? (method === 'GET' || method === 'HEAD');
    let url = typeof target === 'string' ? this.url(target) : target;
    let authTried = false;
    let attempt = 0;
    let withBody = true;
    for (let redirects = 0; ; ) {
      const ours = url.host === this.host;
      if (ours && this.bearer && !this.tokenFor(o.scopes)) await this.fetchToken(o.scopes, o.op);
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const auth = ours ? this.authHeader(o.scopes) : undefined;
      if (auth) headers.Authorization = auth;
      const body = withBody ? o.body?.() : undefined;
      let res: Resp;
      try {
        res = await this.raw(method, url, headers, body);
      } catch (e) {
        if (body && !Buffer.isBuffer(body)) body.destroy();
        // An insecure registry that does not speak TLS: plain HTTP, as Docker does.
        if (ours && this.opts.insecure && url.protocol === 'https:' && schemeOf.get(this.host) !== 'https' && isTlsError(e)) {
          schemeOf.set(this.host, 'http');
          url = new URL(url.toString().replace(/^https:/, 'http:'));
          continue;
        }
        // The remembered plain-HTTP scheme did not work this time: forget it and probe TLS first again.
        if (ours && this.opts.insecure && url.protocol === 'http:' && !schemeOf.has(this.host) && this.opts.schemeCache?.get(this.host) === 'http') {
          this.opts.schemeCache.set(this.host, undefined);
          url = new URL(url.toString().replace(/^http:/, 'https:'));
          continue;
        }
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (retry && (RETRY_CODES.has(code) || /socket hang up/.test(errText(e))) && attempt < ATTEMPTS - 1) {
          await sleep(this.retryDelay(attempt++));
          continue;
        }
        throw this.netError(e, url);
      }
      if (ours && this.opts.insecure) {
        const spoken = url.protocol === 'https:' ? 'https' : 'http';
        schemeOf.set(this.host, spoken);
        this.opts.schemeCache?.set(this.host, spoken);
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location) {
        res.body.resume();
        if (redirects++ >= 10) throw new SkiffError('EREGISTRY', `${o.op.action} ${o.op.name}: registry ${this.domain} redirected more than 10 times`);
        url = new URL(res.headers.location, url);
        if (res.status === 303 && method !== 'HEAD') [method, withBody] = ['GET', false];
        continue;
      }
      if (res.status === 401 && ours && !authTried && res.headers['www-authenticate']) {
        authTried = true;
        // Without a way to answer, the 401 (and its body) goes to the caller's error message.
        if (await this.answerChallenge(String(res.headers['www-authenticate']), o.scopes, o.op, auth !== undefined)) {
          res.body.resume();
          continue;
        }
      }
      if (retry && RETRY_STATUS.has(res.status) && attempt < ATTEMPTS - 1) {
        res.body.resume();
        await sleep(this.retryDelay(attempt++, res));
        continue;
      }
      return res;
    }
  }

  /* ------------------------------------------------------------ auth */

  private scopeKey(scopes: string[]): string {
    return [...new Set(scopes)].sort().join(' ');
  }

  private tokenFor(scopes: string[]): string | undefined {
    const t = this.tokens.get(this.scopeKey(scopes));
    return t && t.expires > Date.now() ? t.token : undefined;
  }

  private basicAuth(): string | undefined {
    const c = this.opts.credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  private authHeader(scopes: string[]): string | undefined {
    const t = this.tokenFor(scopes);
    if (t) return `Bearer ${t}`;
    return this.basic ? this.basicAuth() : undefined;
  }

  /**
   * Returns true when the request is worth sending again with new credentials. `sentAuth`: it went
   * with an Authorization header (one sent without, concurrently with the first Basic challenge's
   * answer, is sent again with the credentials).
   */
  private async answerChallenge(header: string, scopes: string[], op: Op, sentAuth: boolean): Promise<boolean> {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      if (!this.opts.credentials || (this.basic && sentAuth)) return false;
      this.basic = true;
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) {
      throw new SkiffError('EAUTH', `${op.action} ${op.name}: registry ${this.domain} asks for an unsupported authentication scheme: ${header}`);
    }
    this.bearer = params;
    const want = params.scope ? [...scopes, ...params.scope.split(' ')] : scopes;
    this.tokens.delete(this.scopeKey(scopes));
    await this.fetchToken(scopes, op, want);
    return true;
  }

  /** Get (once, even when asked concurrently) a token for `scopes` from the known Bearer realm. */
  private fetchToken(scopes: string[], op: Op, ask: string[] = scopes): Promise<void> {
    const key = this.scopeKey(scopes);
    const pending = this.pendingTokens.get(key);
    if (pending) return pending;
    const p = this.requestToken(key, ask, op).finally(() => this.pendingTokens.delete(key));
    this.pendingTokens.set(key, p);
    return p;
  }

  private async requestToken(key: string, ask: string[], op: Op): Promise<void> {
    const params = this.bearer!;
    let u: URL;
    try {
      u = new URL(params.realm!);
    } catch {
      throw new SkiffError('EAUTH', `${op.action} ${op.name}: registry ${this.domain} names an invalid token realm "${params.realm}"`);
    }
    if (params.service) u.searchParams.set('service', params.service);
    for (const s of new Set(ask)) if (s) u.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    const basic = this.basicAuth();
    if (basic) headers.Authorization = basic;
    let res: Resp | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.raw('GET', u, headers);
      } catch (e) {
        if (RETRY_CODES.has((e as NodeJS.ErrnoException).code ?? '') && attempt < ATTEMPTS - 1) {
          await sleep(this.retryDelay(attempt));
          continue;
        }
        throw this.netError(e, u);
      }
      if (RETRY_STATUS.has(res.status) && attempt < ATTEMPTS - 1) {
        res.body.resume();
        await sleep(this.retryDelay(attempt, res));
        continue;
      }
      break;
    }
    const body = (await readBody(res.body, MAX_SMALL_BODY, `token from ${u.host}`)).toString('utf8');
    if (res.status === 401 || res.status === 403) {
      const detail = errorDetail(body).text || 'incorrect username or password';
      const why = this.opts.credentials ? `unauthorized: ${detail.replace(/^unauthorized: /, '')}` : `unauthorized: authentication required`;
      throw op.action === 'login'
        ? new SkiffError('EAUTH', `login to ${this.domain} failed: ${why}`)
        : new SkiffError('EAUTH', `${op.action} access denied for ${op.name}: ${why} ${this.loginHint()}`);
    }
    if (res.status !== 200) {
      const d = errorDetail(body).text;
      throw new SkiffError('EAUTH', `${op.action} ${op.name}: token server ${u.host} answered HTTP ${res.status}${d ? `: ${d}` : ''}`);
    }
    let j: { token?: string; access_token?: string; expires_in?: number };
    try {
      j = JSON.parse(body) as typeof j;
    } catch {
      throw new SkiffError('EAUTH', `${op.action} ${op.name}: token server ${u.host} sent something that is not JSON`);
    }
    const token = j.token ?? j.access_token;
    if (!token) throw new SkiffError('EAUTH', `${op.action} ${op.name}: token server ${u.host} sent no token`);
    const life = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
    this.tokens.set(key, { token, expires: Date.now() + Math.max(life - 10, life / 2) * 1000 });
  }

  /* ------------------------------------------------------------ errors */

  private async fail(res: Resp, op: Op, notFound?: (detail: string) => string): Promise<never> {
    const body = (await readBody(res.body, MAX_SMALL_BODY, 'error response').catch(() => Buffer.alloc(0))).toString('utf8');
    const { text, codes } = errorDetail(body);
    const d = text ? `: ${text}` : '';
    if (res.status === 401) {
      throw new SkiffError('EAUTH', `${op.action} access denied for ${op.name}: ${text || 'unauthorized: authentication required'} ${this.loginHint()}`);
    }
    if (res.status === 403) {
      throw new SkiffError('EAUTH', `${op.action} access denied for ${op.name}: ${text || 'denied: requested access to the resource is denied'} ${this.loginHint()}`);
    }
    if (res.status === 404 && notFound) throw new SkiffError('ENOIMAGE', notFound(text));
    if (codes.includes('DIGEST_INVALID') || codes.includes('SIZE_INVALID')) {
      throw new SkiffError('EDIGEST', `${op.action} ${op.name}: registry ${this.domain} refused the content${d}`);
    }
    throw new SkiffError('EREGISTRY', `${op.action} ${op.name}: registry ${this.domain} answered HTTP ${res.status}${d}`);
  }

  /* ------------------------------------------------------------ API */

  /** GET /v2/: checks that the registry answers and, with credentials, that they are accepted. */
  async ping(): Promise<void> {
    const op: Op = { action: 'login', name: this.domain };
    const res = await this.request('GET', '/v2/', { op, scopes: [] });
    if (res.status === 200) {
      res.body.resume();
      return;
    }
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      const why = this.opts.credentials ? 'unauthorized: incorrect username or password' : 'unauthorized: authentication required';
      throw new SkiffError('EAUTH', `login to ${this.domain} failed: ${why}`);
    }
    if (res.status === 404) {
      res.body.resume();
      throw new SkiffError('EREGISTRY', `${this.domain} is not a registry: GET /v2/ answered HTTP 404 (check the address)`);
    }
    return this.fail(res, op);
  }

  private manifestName(repo: string, reference: string): string {
    return `${this.nameOf(repo)}${reference.includes(':') ? '@' : ':'}${reference}`;
  }

  /**
   * Fetch a manifest or index by tag or digest. A digest reference is verified; otherwise the digest
   * is computed from the bytes and checked against Docker-Content-Digest when the registry sends it.
   */
  async getManifest(repo: string, reference: string, accept: string[] = MANIFEST_ACCEPT): Promise<ManifestResponse> {
    const name = this.manifestName(repo, reference);
    const byDigest = reference.includes(':');
    if (byDigest) parseDigest(reference);
    const op: Op = { action: 'pull', name: this.nameOf(repo) };
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, {
      op, scopes: [`repository:${repo}:pull`], headers: { Accept: accept.join(', ') },
    });
    if (res.status !== 200) return this.fail(res, op, (d) => `manifest for ${name} not found: ${d || 'manifest unknown'}`);
    const bytes = await readBody(res.body, MAX_MANIFEST, `manifest for ${name}`);
    let digest: string;
    if (byDigest) {
      verifyBuffer(bytes, reference, undefined, `manifest ${name}`);
      digest = reference;
    } else {
      digest = sha256Digest(bytes);
      const header = String(res.headers['docker-content-digest'] ?? '');
      if (header) {
        const algorithm = (() => {
          try {
            return parseDigest(header).algorithm;
          } catch {
            return undefined;
          }
        })();
        if (algorithm && digestOf(bytes, algorithm) !== header) {
          throw new SkiffError('EDIGEST', `digest mismatch for manifest ${name}: registry says ${header}, content is ${digestOf(bytes, algorithm)}`);
        }
      }
    }
    return { mediaType: contentType(res.headers), digest, bytes };
  }

  /** HEAD a manifest: its media type, digest and size, or undefined when there is none. */
  async headManifest(repo: string, reference: string, accept: string[] = MANIFEST_ACCEPT): Promise<ManifestHead | undefined> {
    const name = this.manifestName(repo, reference);
    const op: Op = { action: 'pull', name: this.nameOf(repo) };
    const res = await this.request('HEAD', `/v2/${repo}/manifests/${reference}`, {
      op, scopes: [`repository:${repo}:pull`], headers: { Accept: accept.join(', ') },
    });
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.fail(res, op, () => `manifest for ${name} not found: manifest unknown`);
    const digest = String(res.headers['docker-content-digest'] ?? '') || (reference.includes(':') ? reference : '');
    if (!digest) {
      const m = await this.getManifest(repo, reference, accept);
      return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    }
    return { mediaType: contentType(res.headers), digest, size: Number(res.headers['content-length'] ?? -1) };
  }

  /**
   * Stream a blob (from `offset` when given). `size` is the whole blob's size (-1 if unknown); the
   * stream delivers bytes offset..size. A connection that breaks mid-way is resumed with a Range
   * request (3 times at most). The caller verifies the digest (DigestVerifier).
   */
  async getBlob(repo: string, digest: string, o: { offset?: number } = {}): Promise<{ stream: Readable; size: number }> {
    parseDigest(digest);
    const op: Op = { action: 'pull', name: this.nameOf(repo) };
    const open = async (from: number): Promise<{ body: Readable; start: number; total: number }> => {
      const res = await this.request('GET', `/v2/${repo}/blobs/${digest}`, {
        op, scopes: [`repository:${repo}:pull`], ...(from > 0 ? { headers: { Range: `bytes=${from}-` } } : {}),
      });
      if (res.status === 206) {
        const m = /bytes (\d+)-\d+\/(\d+|\*)/.exec(String(res.headers['content-range'] ?? ''));
        const start = m ? Number(m[1]) : from;
        const total = m && m[2] !== '*' ? Number(m[2]) : -1;
        return { body: res.body, start, total };
      }
      if (res.status === 200) {
        const len = res.headers['content-length'];
        return { body: res.body, start: 0, total: len === undefined ? -1 : Number(len) };
      }
      if (res.status === 416) {
        res.body.resume();
        throw new SkiffError('EREGISTRY', `pull ${op.name}: blob ${digest} is shorter than offset ${from}`);
      }
      return this.fail(res, op, (d) => `blob ${digest} not found in ${op.name}: ${d || 'blob unknown'}`);
    };
    const offset = o.offset ?? 0;
    const first = await open(offset);
    const stream = new ResumingStream(first, offset, open, (e) => this.netError(e), this.opts.retryBase ?? 200);
    return { stream, size: first.total };
  }

  /** Whether the repository has the blob (HEAD). */
  async blobExists(repo: string, digest: string): Promise<boolean> {
    return this.headBlob(repo, digest, [`repository:${repo}:pull`], { action: 'pull', name: this.nameOf(repo) });
  }

  private async headBlob(repo: string, digest: string, scopes: string[], op: Op): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { op, scopes });
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, op);
  }

  /**
   * Upload a blob unless the repository has it: a cross-repository mount when `mountFrom` (a repo of
   * the same registry) has it, else a monolithic upload (POST, then PUT with the body), or PATCHes
   * of `chunkSize` bytes and a closing PUT. `open` must give the same bytes each time it is called.
   */
  async uploadBlob(
    repo: string,
    digest: string,
    size: number,
    open: () => Readable,
    o: { mountFrom?: string; chunkSize?: number } = {},
  ): Promise<UploadResult> {
    parseDigest(digest);
    const op: Op = { action: 'push', name: this.nameOf(repo) };
    const scopes = [`repository:${repo}:pull,push`];
    if (await this.headBlob(repo, digest, scopes, op)) return 'exists';
    const mount = o.mountFrom && o.mountFrom !== repo ? o.mountFrom : undefined;
    const postScopes = mount ? [...scopes, `repository:${mount}:pull`] : scopes;
    const q = mount ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mount)}` : '';
    // Starting an upload session twice is harmless (the first is abandoned): safe to retry.
    let res = await this.request('POST', `/v2/${repo}/blobs/uploads/${q}`, {
      op, scopes: postScopes, headers: { 'Content-Length': '0' }, retry: true,
    });
    res.body.resume();
    if (res.status === 201) return 'mounted';
    if (res.status !== 202 || !res.headers.location) return this.fail(res, op);
    let location = new URL(String(res.headers.location), this.url('/'));
    const what = `blob ${digest}`;
    if (o.chunkSize && o.chunkSize > 0) {
      let offset = 0;
      const source = chunks(open(), o.chunkSize);
      const next = async (): Promise<IteratorResult<Buffer>> => {
        try {
          return await source.next();
        } catch (e) {
          throw e instanceof SkiffError ? e : new SkiffError('EINVAL', `reading the content to send to ${this.domain} failed: ${errText(e)}`);
        }
      };
      for (let r = await next(); !r.done; r = await next()) {
        const chunk = r.value;
        res = await this.request('PATCH', location, {
          op, scopes, retry: false,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(chunk.length),
            'Content-Range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: () => chunk,
        });
        if (res.status !== 202) return this.fail(res, op);
        res.body.resume();
        offset += chunk.length;
        if (res.headers.location) location = new URL(String(res.headers.location), location);
      }
      if (offset !== size) {
        await this.cancelUpload(location, op, scopes);
        throw new SkiffError('EDIGEST', `push ${op.name}: ${what} has ${offset} bytes, expected ${size}: the local copy is corrupt`);
      }
      location.searchParams.set('digest', digest);
      res = await this.request('PUT', location, { op, scopes, retry: false, headers: { 'Content-Length': '0' } });
    } else {
      location.searchParams.set('digest', digest);
      res = await this.request('PUT', location, {
        op, scopes, retry: false,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
        body: open,
      });
    }
    if (res.status !== 201) return this.fail(res, op);
    res.body.resume();
    return 'uploaded';
  }

  private async cancelUpload(location: URL, op: Op, scopes: string[]): Promise<void> {
    try {
      const res = await this.request('DELETE', location, { op, scopes, retry: false });
      res.body.resume();
    } catch {
      /* best effort: the registry expires abandoned uploads */
    }
  }

  /** PUT a manifest under a tag or digest; returns its digest (sha256 of `bytes`). */
  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const op: Op = { action: 'push', name: this.nameOf(repo) };
    const digest = sha256Digest(bytes);
    const res = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      op, scopes: [`repository:${repo}:pull,push`], retry: true,
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
      body: () => bytes,
    });
    if (res.status !== 201 && res.status !== 200) return this.fail(res, op);
    res.body.resume();
    const header = String(res.headers['docker-content-digest'] ?? '');
    if (header.startsWith('sha256:') && header !== digest) {
      throw new SkiffError('EDIGEST', `push ${op.name}:${reference}: registry ${this.domain} stored the manifest as ${header}, but its content is ${digest}`);
    }
    return digest;
  }

  /** All tags of a repository (following `Link: <...>; rel="next"` pages). */
  async listTags(repo: string): Promise<string[]> {
    const op: Op = { action: 'list tags of', name: this.nameOf(repo) };
    const tags: string[] = [];
    let next: string | URL | undefined = `/v2/${repo}/tags/list`;
    for (let page = 0; next && page < 1000; page++) {
      const res = await this.request('GET', next, { op, scopes: [`repository:${repo}:pull`] });
      if (res.status !== 200) return this.fail(res, op, (d) => `repository ${op.name} not found: ${d || 'name unknown'}`);
      const body = await readBody(res.body, 64 * 1024 * 1024, `tag list of ${op.name}`);
      let j: { tags?: string[] | null };
      try {
        j = JSON.parse(body.toString('utf8')) as typeof j;
      } catch {
        throw new SkiffError('EREGISTRY', `list tags of ${op.name}: registry ${this.domain} sent something that is not JSON`);
      }
      tags.push(...(j.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      next = link ? new URL(link[1]!, this.url('/')) : undefined;
    }
    return tags;
  }
}

/** Passes bytes through; fails when there are more or fewer than `size`. */
class LengthCheck extends Transform {
  private n = 0;
  constructor(private readonly size: number, private readonly host: string) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.n += chunk.length;
    if (this.n > this.size) cb(this.mismatch('more'));
    else cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(this.n === this.size ? null : this.mismatch(String(this.n)));
  }
  private mismatch(got: string): SkiffError {
    return new SkiffError('EDIGEST', `upload to ${this.host} failed: the content is not the size announced (${this.size} bytes, got ${got}): the local copy is corrupt`);
  }
}

/** Cut a stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* chunks(src: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of src) {
    let b = c as Buffer;
    while (b.length) {
      const take = Math.min(size - have, b.length);
      parts.push(b.subarray(0, take));
      have += take;
      b = b.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have) yield Buffer.concat(parts);
}

/**
 * A blob download that re-requests the rest (Range: bytes=N-) when the connection breaks,
 * keeping backpressure (the response is paused while our reader is not reading).
 */
class ResumingStream extends Readable {
  private body: Readable | undefined;
  private pos: number;
  private total: number;
  private resumes = 0;
  private generation = 0;

  constructor(
    first: { body: Readable; start: number; total: number },
    offset: number,
    private readonly reopen: (from: number) => Promise<{ body: Readable; start: number; total: number }>,
    private readonly toError: (e: unknown) => Error,
    private readonly retryBase: number,
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.pos = offset;
    this.total = first.total;
    this.attach(first.body, offset - first.start);
  }

  private attach(body: Readable, skip: number): void {
    const gen = ++this.generation;
    this.body = body;
    body.on('data', (c: Buffer) => {
      if (gen !== this.generation) return;
      if (skip > 0) {
        const s = Math.min(skip, c.length);
        skip -= s;
        c = c.subarray(s);
        if (!c.length) return;
      }
      this.pos += c.length;
      if (!this.push(c)) body.pause();
    });
    body.on('end', () => {
      if (gen !== this.generation) return;
      if (this.total >= 0 && this.pos < this.total) this.broken(Object.assign(new Error(`connection closed after ${this.pos} of ${this.total} bytes`), { code: 'ECONNRESET' }));
      else this.push(null);
    });
    body.on('error', (e) => {
      if (gen === this.generation) this.broken(e);
    });
  }

  private broken(e: unknown): void {
    this.generation++;
    this.body?.destroy();
    this.body = undefined;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const transient = RETRY_CODES.has(code) || /aborted|socket hang up/i.test(errText(e));
    if (!transient || this.resumes >= ATTEMPTS || this.destroyed) {
      this.destroy(this.toError(e));
      return;
    }
    const delay = this.retryBase * 2 ** this.resumes++;
    setTimeout(() => {
      if (this.destroyed) return;
      this.reopen(this.pos).then(
        (r) => {
          if (r.total >= 0) this.total = r.total;
          if (r.start > this.pos) throw new SkiffError('EREGISTRY', `the registry resumed at byte ${r.start}, after ${this.pos}`);
          this.attach(r.body, this.pos - r.start);
          if (this.destroyed) r.body.destroy();
        },
      ).catch((err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))));
    }, delay);
  }

  override _read(): void {
    this.body?.resume();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.generation++;
    this.body?.destroy();
    cb(err);
  }
}
