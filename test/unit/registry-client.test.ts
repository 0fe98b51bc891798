/**
 * The registry client against a REAL registry (Debian's docker-registry, distribution 2.8, started
 * here on 127.0.0.1 with its own storage), with and without htpasswd auth; then against small
 * in-process fakes for what a well-behaved local registry never does: Bearer tokens, redirects to
 * storage, 5xx/429 retries, dropped connections mid-blob, lying digests, silence.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SkiffError, type ErrorCode } from '../../src/errors.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { MT } from '../../src/oci/media.js';
import { RegistryClient, parseChallenge } from '../../src/registry/client.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const haveRegistry = fs.existsSync(REGISTRY_BIN);
const haveHtpasswd = fs.existsSync('/usr/bin/htpasswd');

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

interface Registry {
  addr: string;
  dir: string;
  stop(): Promise<void>;
}

async function startRegistry(auth?: { user: string; pass: string }): Promise<Registry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  let authConf = '';
  if (auth) {
    fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', auth.user, auth.pass]));
    authConf = `auth:\n  htpasswd:\n    realm: skiff-test\n    path: ${dir}/htpasswd\n`;
  }
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:', '  level: error', '  accesslog:', '    disabled: true',
    'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`, '  delete:', '    enabled: true',
    'http:', `  addr: 127.0.0.1:${port}`, '  secret: skiff-unit-test',
    authConf,
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'log'), 'w');
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const addr = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const status = await new Promise<number>((resolve) => {
      http.get(`http://${addr}/v2/`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', () => resolve(0));
    });
    if (status === 200 || status === 401) break;
    if (i > 200 || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`docker-registry did not start: ${fs.readFileSync(path.join(dir, 'log'), 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    addr,
    dir,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const blob = (s: string, n = 1): Buffer => Buffer.from(s.repeat(n));
const streamOf = (b: Buffer, piece = 1000): (() => Readable) => () =>
  Readable.from((function* () { for (let i = 0; i < b.length; i += piece) yield b.subarray(i, i + piece); })());

async function readAll(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** assert.rejects predicate: a SkiffError with this code whose one-line message matches. */
const skiffError = (code: ErrorCode, re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof SkiffError, `not a SkiffError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

/** Push a tiny image (config + one layer) and its OCI manifest; returns the manifest's bytes and digest. */
async function pushImage(c: RegistryClient, repo: string, tag: string, seed: string): Promise<{ bytes: Buffer; digest: string }> {
  const layer = blob(`layer ${seed} `, 500);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] } }));
  await c.uploadBlob(repo, sha256Digest(layer), layer.length, streamOf(layer));
  await c.uploadBlob(repo, sha256Digest(config), config.length, streamOf(config));
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: MT.ociLayer, digest: sha256Digest(layer), size: layer.length }],
  }));
  const digest = await c.putManifest(repo, tag, MT.ociManifest, bytes);
  return { bytes, digest };
}

describe('against a real docker-registry', { skip: !haveRegistry && `${REGISTRY_BIN} is not installed` }, () => {
  let reg: Registry;
  let c: RegistryClient;
  before(async () => {
    reg = await startRegistry();
    c = new RegistryClient(reg.addr, { insecure: true });
  });
  after(async () => {
    await reg?.stop();
  });

  test('ping', async () => {
    await c.ping();
  });

  test('monolithic upload, exists, download (whole and from an offset)', async () => {
    const data = blob('monolithic data ', 4096);
    const d = sha256Digest(data);
    assert.equal(await c.blobExists('skiff/mono', d), false);
    assert.equal(await c.uploadBlob('skiff/mono', d, data.length, streamOf(data, 65536)), 'uploaded');
    assert.equal(await c.blobExists('skiff/mono', d), true);
    assert.equal(await c.uploadBlob('skiff/mono', d, data.length, () => { throw new Error('must not be read'); }), 'exists');
    const whole = await c.getBlob('skiff/mono', d);
    assert.equal(whole.size, data.length);
    assert.deepEqual(await readAll(whole.stream), data);
    const part = await c.getBlob('skiff/mono', d, { offset: 1000 });
    assert.equal(part.size, data.length);
    assert.deepEqual(await readAll(part.stream), data.subarray(1000));
  });

  test('chunked upload', async () => {
    const data = blob('chunked! ', 617);
    const d = sha256Digest(data);
    assert.equal(await c.uploadBlob('skiff/chunked', d, data.length, streamOf(data, 777), { chunkSize: 1000 }), 'uploaded');
    assert.deepEqual(await readAll((await c.getBlob('skiff/chunked', d)).stream), data);
    // One chunk bigger than the blob.
    const small = blob('tiny');
    assert.equal(await c.uploadBlob('skiff/chunked', sha256Digest(small), small.length, streamOf(small), { chunkSize: 1 << 20 }), 'uploaded');
    assert.deepEqual(await readAll((await c.getBlob('skiff/chunked', sha256Digest(small))).stream), small);
  });

  test('cross-repository mount', async () => {
    const data = blob('shared layer ', 1000);
    const d = sha256Digest(data);
    assert.equal(await c.uploadBlob('skiff/source', d, data.length, streamOf(data)), 'uploaded');
    assert.equal(await c.uploadBlob('skiff/target', d, data.length, () => { throw new Error('must be mounted'); }, { mountFrom: 'skiff/source' }), 'mounted');
    assert.deepEqual(await readAll((await c.getBlob('skiff/target', d)).stream), data);
    // A mount source without the blob falls back to uploading.
    const other = blob('not in the source ', 10);
    assert.equal(await c.uploadBlob('skiff/target', sha256Digest(other), other.length, streamOf(other), { mountFrom: 'skiff/nothing' }), 'uploaded');
  });

  test('put and get manifests; head; tags', async () => {
    const { bytes, digest } = await pushImage(c, 'skiff/image', 'v1', 'one');
    assert.equal(digest, sha256Digest(bytes));
    const byTag = await c.getManifest('skiff/image', 'v1');
    assert.deepEqual(byTag.bytes, bytes);
    assert.equal(byTag.digest, digest);
    assert.equal(byTag.mediaType, MT.ociManifest);
    const byDigest = await c.getManifest('skiff/image', digest);
    assert.deepEqual(byDigest.bytes, bytes);
    assert.deepEqual(await c.headManifest('skiff/image', 'v1'), { mediaType: MT.ociManifest, digest, size: bytes.length });
    assert.equal(await c.headManifest('skiff/image', 'nope'), undefined);
    await c.putManifest('skiff/image', 'v2', MT.ociManifest, bytes);
    await pushImage(c, 'skiff/image', 'other', 'two');
    assert.deepEqual((await c.listTags('skiff/image')).sort(), ['other', 'v1', 'v2']);
  });

  test('a digest that does not match the content is refused by the registry', async () => {
    const data = blob('real content ', 100);
    const lie = sha256Digest(blob('something else'));
    await assert.rejects(c.uploadBlob('skiff/bad', lie, data.length, streamOf(data)),
      skiffError('EDIGEST', /^push 127\.0\.0\.1:\d+\/skiff\/bad: registry 127\.0\.0\.1:\d+ refused the content: digest invalid: provided digest did not match uploaded content$/));
    await assert.rejects(c.uploadBlob('skiff/bad', lie, data.length, streamOf(data, 300), { chunkSize: 500 }), skiffError('EDIGEST', /digest invalid/));
    assert.equal(await c.blobExists('skiff/bad', lie), false);
  });

  test('content of the wrong size fails at once instead of hanging', async () => {
    const data = blob('short ', 100);
    const d = sha256Digest(data);
    const t0 = Date.now();
    await assert.rejects(c.uploadBlob('skiff/short', d, data.length + 10, streamOf(data)), skiffError('EDIGEST', /not the size announced/));
    await assert.rejects(c.uploadBlob('skiff/short', d, data.length + 10, streamOf(data), { chunkSize: 256 }),
      skiffError('EDIGEST', /has 600 bytes, expected 610: the local copy is corrupt/));
    assert.ok(Date.now() - t0 < 5000);
    const failing = (): Readable => new Readable({ read() { this.destroy(new Error('EIO: disk on fire')); } });
    await assert.rejects(c.uploadBlob('skiff/short', d, data.length, failing), skiffError('EINVAL', /reading the content to send to .* failed: EIO: disk on fire/));
  });

  test('a manifest naming missing blobs is refused', async () => {
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: sha256Digest('nope'), size: 4 }, layers: [],
    }));
    await assert.rejects(c.putManifest('skiff/image', 'broken', MT.ociManifest, bytes),
      skiffError('EREGISTRY', /^push 127\.0\.0\.1:\d+\/skiff\/image: registry .* answered HTTP 400: manifest blob unknown/));
  });

  test('404s are ENOIMAGE with Docker\'s wording', async () => {
    await pushImage(c, 'skiff/exists', 'latest', 'x');
    await assert.rejects(c.getManifest('skiff/exists', 'nope'),
      skiffError('ENOIMAGE', new RegExp(`^manifest for ${reg.addr.replace(/\./g, '\\.')}/skiff/exists:nope not found: manifest unknown$`)));
    await assert.rejects(c.getManifest('skiff/never', 'latest'), skiffError('ENOIMAGE', /^manifest for .*\/skiff\/never:latest not found: (manifest|name) unknown/));
    const missing = sha256Digest('missing');
    await assert.rejects(c.getManifest('skiff/exists', missing), skiffError('ENOIMAGE', new RegExp(`skiff/exists@${missing} not found`)));
    await assert.rejects(c.getBlob('skiff/exists', missing), skiffError('ENOIMAGE', new RegExp(`^blob ${missing} not found in .*/skiff/exists: blob unknown`)));
    await assert.rejects(c.listTags('skiff/never'), skiffError('ENOIMAGE', /^repository .*\/skiff\/never not found: name unknown/));
    assert.equal(await c.blobExists('skiff/never', missing), false);
  });

  test('plain HTTP is not used unless the registry is insecure; TLS failures say what to do', async () => {
    await assert.rejects(new RegistryClient(reg.addr).ping(),
      skiffError('ENET', /^TLS connection to registry 127\.0\.0\.1:\d+ failed: the server does not speak TLS \(wrong version number\) \(use --tls-verify=false for a registry without valid TLS\)$/));
  });
});

test('an unreachable registry is ENET', async () => {
  const port = await freePort();
  await assert.rejects(new RegistryClient(`127.0.0.1:${port}`, { insecure: true, retryBase: 1 }).getManifest('x', 'latest'),
    skiffError('ENET', new RegExp(`^registry 127\\.0\\.0\\.1:${port} is unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`)));
  await assert.rejects(new RegistryClient('no-such-host.invalid', { retryBase: 1 }).ping(),
    skiffError('ENET', /^registry no-such-host\.invalid is unreachable: getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid$/));
});

describe('against a docker-registry with htpasswd auth', { skip: (!haveRegistry || !haveHtpasswd) && 'docker-registry or htpasswd is not installed' }, () => {
  let reg: Registry;
  before(async () => {
    reg = await startRegistry({ user: 'user', pass: 'pass' });
  });
  after(async () => {
    await reg?.stop();
  });

  test('wrong or missing credentials are EAUTH', async () => {
    const login = `'skiff login ${reg.addr}'`;
    await assert.rejects(new RegistryClient(reg.addr, { insecure: true, credentials: { username: 'user', password: 'wrong' } }).ping(),
      skiffError('EAUTH', /^login to 127\.0\.0\.1:\d+ failed: unauthorized: incorrect username or password$/));
    await assert.rejects(new RegistryClient(reg.addr, { insecure: true }).ping(), skiffError('EAUTH', /authentication required/));
    await assert.rejects(new RegistryClient(reg.addr, { insecure: true }).getManifest('foo', 'latest'),
      skiffError('EAUTH', new RegExp(`^pull access denied for ${reg.addr.replace(/\./g, '\\.')}/foo: unauthorized: authentication required \\(run ${login}\\)$`)));
    await assert.rejects(new RegistryClient(reg.addr, { insecure: true, credentials: { username: 'user', password: 'wrong' } }).getManifest('foo', 'latest'),
      skiffError('EAUTH', /^pull access denied for .*\/foo: unauthorized: authentication required \(check the credentials: run 'skiff login .*'\)$/));
    const data = blob('x');
    await assert.rejects(new RegistryClient(reg.addr, { insecure: true }).uploadBlob('foo', sha256Digest(data), 1, streamOf(data)),
      skiffError('EAUTH', /^push access denied for .*\/foo: unauthorized: authentication required/));
  });

  test('the right credentials work for everything', async () => {
    const c = new RegistryClient(reg.addr, { insecure: true, credentials: { username: 'user', password: 'pass' } });
    await c.ping();
    const { bytes, digest } = await pushImage(c, 'private/app', '1.0', 'auth');
    assert.deepEqual((await c.getManifest('private/app', '1.0')).bytes, bytes);
    assert.equal((await c.getManifest('private/app', digest)).digest, digest);
    assert.deepEqual(await c.listTags('private/app'), ['1.0']);
    const data = blob('chunks with auth ', 300);
    assert.equal(await c.uploadBlob('private/other', sha256Digest(data), data.length, streamOf(data), { chunkSize: 1024 }), 'uploaded');
    assert.equal(await c.uploadBlob('private/third', sha256Digest(data), data.length, streamOf(data), { mountFrom: 'private/other' }), 'mounted');
  });
});

/* ------------------------------------------------------------------ fakes */

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

async function fake(handler: Handler): Promise<{ addr: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(parts)));
  });
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    addr: `127.0.0.1:${(srv.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length, ...headers });
  res.end(b);
};

describe('against fakes', () => {
  test('challenges are parsed as Docker does', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
      scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="x, y"'), { scheme: 'basic', params: { realm: 'x, y' } });
    assert.equal(parseChallenge('Basic realm="r", Bearer realm="t",error=insufficient_scope').scheme, 'bearer');
    assert.equal(parseChallenge('Bearer realm="t",error=insufficient_scope').params.error, 'insufficient_scope');
  });

  test('Bearer tokens: fetched once per scope with Basic credentials, then sent', async () => {
    const tokenRequests: URL[] = [];
    const seen: (string | undefined)[] = [];
    const layer = blob('token-protected ', 100);
    let addr = '';
    const srv = await fake((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/token') {
        tokenRequests.push(u);
        if (req.headers.authorization !== `Basic ${Buffer.from('me:secret').toString('base64')}`) return json(res, 401, { details: 'incorrect username or password' });
        return json(res, 200, { token: `tok-${u.searchParams.getAll('scope').join('+')}`, expires_in: 300 });
      }
      seen.push(req.headers.authorization);
      const want = 'Bearer tok-repository:lib/app:pull';
      if (req.headers.authorization !== want) {
        return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          { 'WWW-Authenticate': `Bearer realm="http://${addr}/token",service="fake",scope="repository:lib/app:pull"` });
      }
      res.writeHead(200, { 'Content-Length': layer.length });
      res.end(layer);
    });
    addr = srv.addr;
    try {
      const c = new RegistryClient(addr, { insecure: true, credentials: { username: 'me', password: 'secret' } });
      const d = sha256Digest(layer);
      const got = await Promise.all([1, 2, 3].map(async () => readAll((await c.getBlob('lib/app', d)).stream)));
      for (const g of got) assert.deepEqual(g, layer);
      await c.getBlob('lib/app', d).then((b) => readAll(b.stream));
      assert.equal(tokenRequests.length, 1, 'one token for concurrent requests of one scope');
      assert.equal(tokenRequests[0]!.searchParams.get('service'), 'fake');
      assert.deepEqual(tokenRequests[0]!.searchParams.getAll('scope'), ['repository:lib/app:pull']);
      assert.ok(seen.filter((a) => a === 'Bearer tok-repository:lib/app:pull').length >= 4);
      // Wrong credentials: the token server says no → EAUTH.
      const bad = new RegistryClient(addr, { insecure: true, credentials: { username: 'me', password: 'nope' } });
      await assert.rejects(bad.getManifest('lib/app', 'latest'),
        skiffError('EAUTH', /^pull access denied for .*\/lib\/app: unauthorized: incorrect username or password \(check the credentials: run 'skiff login .*'\)$/));
      await assert.rejects(bad.ping(), skiffError('EAUTH', /^login to .* failed: unauthorized: incorrect username or password$/));
    } finally {
      await srv.close();
    }
  });

  test('Basic: requests sent before the first challenge was answered are sent again with the credentials', async () => {
    const layer = blob('basic-protected ', 50);
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    // the first three requests (all without credentials) are held until all three came, then each gets the challenge
    const held: http.ServerResponse[] = [];
    const srv = await fake((req, res) => {
      if (req.headers.authorization === basic) {
        res.writeHead(200, { 'Content-Length': layer.length });
        return res.end(layer);
      }
      held.push(res);
      if (held.length === 3) for (const r of held) json(r, 401, {}, { 'WWW-Authenticate': 'Basic realm="r"' });
    });
    try {
      const c = new RegistryClient(srv.addr, { insecure: true, credentials: { username: 'u', password: 'p' } });
      const d = sha256Digest(layer);
      const got = await Promise.all([1, 2, 3].map(async () => readAll((await c.getBlob('a', d)).stream)));
      for (const g of got) assert.deepEqual(g, layer);
    } finally {
      await srv.close();
    }
  });

  test('redirects to storage are followed without our Authorization', async () => {
    const layer = blob('stored elsewhere ', 50);
    let storageAuth: string | undefined = 'unset';
    const storage = await fake((req, res) => {
      storageAuth = req.headers.authorization;
      res.writeHead(200, { 'Content-Length': layer.length });
      res.end(layer);
    });
    const reg = await fake((req, res) => {
      if (!req.headers.authorization) return json(res, 401, {}, { 'WWW-Authenticate': 'Basic realm="r"' });
      res.writeHead(307, { Location: `http://${storage.addr}/blob?sig=1` });
      res.end();
    });
    try {
      const c = new RegistryClient(reg.addr, { insecure: true, credentials: { username: 'u', password: 'p' } });
      assert.deepEqual(await readAll((await c.getBlob('a', sha256Digest(layer))).stream), layer);
      assert.equal(storageAuth, undefined);
    } finally {
      await Promise.all([storage.close(), reg.close()]);
    }
  });

  test('idempotent requests are retried on 503, 429 and reset connections; then give up', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }));
    let calls = 0;
    let mode: 'flaky' | 'down' | 'reset' = 'flaky';
    const srv = await fake((req, res) => {
      calls++;
      if (mode === 'down' || (mode === 'flaky' && calls === 1)) return json(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'try later' }] });
      if (mode === 'flaky' && calls === 2) return json(res, 429, {}, { 'Retry-After': '0' });
      if (mode === 'reset' && calls === 1) return req.socket.destroy();
      res.writeHead(200, { 'Content-Type': MT.ociIndex, 'Content-Length': manifest.length });
      res.end(manifest);
    });
    try {
      const c = new RegistryClient(srv.addr, { insecure: true, retryBase: 1 });
      assert.deepEqual((await c.getManifest('x', 'latest')).bytes, manifest);
      assert.equal(calls, 3);
      mode = 'down';
      calls = 0;
      await assert.rejects(c.getManifest('x', 'latest'), skiffError('EREGISTRY', /^pull .*\/x: registry .* answered HTTP 503: unavailable: try later$/));
      assert.equal(calls, 3);
      mode = 'reset';
      calls = 0;
      assert.deepEqual((await c.getManifest('x', 'latest')).bytes, manifest);
      assert.equal(calls, 2);
      // Not idempotent: a chunk PATCH is not retried.
      mode = 'down';
      calls = 0;
      await assert.rejects(c.uploadBlob('x', sha256Digest('a'), 1, streamOf(blob('a'))), skiffError('EREGISTRY', /503/));
      assert.equal(calls, 3, 'HEAD retried, nothing else sent');
    } finally {
      await srv.close();
    }
  });

  test('a blob download that breaks off resumes with a Range request', async () => {
    const layer = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < layer.length; i++) layer[i] = (i * 7) & 0xff;
    const ranges: (string | undefined)[] = [];
    const srv = await fake((req, res) => {
      ranges.push(req.headers.range);
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      if (ranges.length === 1) {
        // Announce everything, send a third, hang up.
        res.writeHead(200, { 'Content-Length': layer.length });
        res.write(layer.subarray(0, 1024 * 1024), () => setTimeout(() => req.socket.destroy(), 20));
        return;
      }
      if (ranges.length === 2 && !m) {
        res.writeHead(200, { 'Content-Length': layer.length });
        return res.end(layer);
      }
      res.writeHead(206, { 'Content-Length': layer.length - start, 'Content-Range': `bytes ${start}-${layer.length - 1}/${layer.length}` });
      res.end(layer.subarray(start));
    });
    try {
      const c = new RegistryClient(srv.addr, { insecure: true, retryBase: 1 });
      const { stream, size } = await c.getBlob('x', sha256Digest(layer));
      assert.equal(size, layer.length);
      const got = await readAll(stream);
      assert.equal(got.length, layer.length);
      assert.ok(got.equals(layer));
      assert.equal(ranges[0], undefined);
      assert.match(ranges[1] ?? '', /^bytes=\d+-$/);
      assert.ok(Number(/\d+/.exec(ranges[1]!)![0]) >= 1024 * 1024 - 1);
    } finally {
      await srv.close();
    }
  });

  test('a registry that lies about digests is caught', async () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }));
    const srv = await fake((req, res) => {
      res.writeHead(200, { 'Content-Type': MT.ociIndex, 'Docker-Content-Digest': sha256Digest('other'), 'Content-Length': body.length });
      res.end(body);
    });
    try {
      const c = new RegistryClient(srv.addr, { insecure: true });
      const asked = sha256Digest('what we asked for');
      await assert.rejects(c.getManifest('x', asked), skiffError('EDIGEST', new RegExp(`^digest mismatch for manifest .*/x@${asked}: expected ${asked}, got ${sha256Digest(body)}$`)));
      await assert.rejects(c.getManifest('x', 'latest'), skiffError('EDIGEST', /^digest mismatch for manifest .*\/x:latest: registry says sha256:/));
      await assert.rejects(c.getManifest('x', 'sha256:short'), skiffError('EINVAL', /invalid digest/));
    } finally {
      await srv.close();
    }
  });

  test('a silent registry times out', async () => {
    const srv = await fake(() => { /* never answers */ });
    try {
      const c = new RegistryClient(srv.addr, { insecure: true, idleTimeout: 100, retryBase: 1 });
      await assert.rejects(c.getManifest('x', 'latest'), skiffError('ENET', /^registry .* is unreachable: GET .*: no data for 0\.1 s$/));
    } finally {
      await srv.close();
    }
  });

  test('tag lists follow Link pagination', async () => {
    const srv = await fake((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (!u.searchParams.get('last')) return json(res, 200, { name: 'x', tags: ['a', 'b'] }, { Link: '</v2/x/tags/list?n=2&last=b>; rel="next"' });
      return json(res, 200, { name: 'x', tags: ['c'] });
    });
    try {
      assert.deepEqual(await new RegistryClient(srv.addr, { insecure: true }).listTags('x'), ['a', 'b', 'c']);
    } finally {
      await srv.close();
    }
  });
});
