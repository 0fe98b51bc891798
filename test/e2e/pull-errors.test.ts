/**
 * The failures issue 2 names, through the CLI: each one `Error: ...` line naming the reference and
 * the cause, exit 125, nothing half-written kept. TLS: a TLS proxy in front of the fixture registry
 * with a self-signed certificate made by openssl, on a non-loopback address (loopback registries
 * are insecure by default, as in Docker). Disk full: a store on a tiny tmpfs (mounting one needs root).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  authRegistry, deadRegistry, fixtures, isRootless, registry, skiff, tempStore, type RunResult, type TempStore,
} from '../helpers/fixtures.js';

const fx = fixtures();

function oneErrorLine(r: RunResult, re: RegExp): void {
  assert.equal(r.code, 125, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, re);
}

/** Store entries that would look like (part of) an image: layers, image records, staging. */
function leftovers(s: TempStore): string[] {
  const ls = (d: string): string[] => (fs.existsSync(path.join(s.root, d)) ? fs.readdirSync(path.join(s.root, d)).map((n) => `${d}/${n}`) : []);
  return [...ls('layers').filter((n) => n !== 'layers/l'), ...ls('images'), ...ls('tmp')];
}

/** The first non-loopback IPv4 address of this machine (a registry there is not insecure by default). */
function externalAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('pull errors', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(async () => store.cleanup());

  test('unknown image, unknown tag: the registry says so, naming the reference', async () => {
    const tag = await skiff(['pull', `${fx.registry}/busybox:nope`], { store });
    oneErrorLine(tag, new RegExp(`manifest for ${fx.registry}/busybox:nope not found: manifest unknown`));
    const repo = await skiff(['pull', `${fx.registry}/no-such-image`], { store });
    oneErrorLine(repo, new RegExp(`${fx.registry}/no-such-image:latest not found: .*(name unknown|manifest unknown)`));
    assert.deepEqual(leftovers(store), []);
  });

  test('unreachable registry: names the reference and the refused connection', async () => {
    const dead = await deadRegistry();
    const r = await skiff(['pull', `${dead}/busybox`], { store });
    oneErrorLine(r, new RegExp(`^Error: pull ${dead}/busybox:latest: registry ${dead} is unreachable: .*ECONNREFUSED`));
  });

  test('auth failure: no credentials, then wrong ones', async () => {
    const reg = authRegistry();
    const none = await skiff(['pull', `${reg}/busybox`], { store });
    oneErrorLine(none, new RegExp(`pull access denied for ${reg}/busybox: unauthorized`));
    const cfg = path.join(store.home, '.docker');
    fs.mkdirSync(cfg, { recursive: true });
    fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [reg]: { auth: Buffer.from('testuser:wrong').toString('base64') } } }), { mode: 0o600 });
    try {
      const wrong = await skiff(['pull', `${reg}/busybox`], { store });
      oneErrorLine(wrong, new RegExp(`pull access denied for ${reg}/busybox: unauthorized.*skiff login ${reg}`));
    } finally {
      fs.rmSync(path.join(cfg, 'config.json'));
    }
  });

  test('TLS: a self-signed certificate is refused (the message names it); --tls-verify=false pulls', async (t) => {
    const host = externalAddress();
    if (!host) {
      t.skip('this machine has no non-loopback IPv4 address');
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '1', '-subj', '/CN=skiff-test',
      '-addext', `subjectAltName=IP:${host}`], { stdio: 'ignore' });
    const [uhost, uport] = registry().split(':') as [string, string];
    const sockets = new Set<net.Socket>();
    const server = tls.createServer({ key: fs.readFileSync(`${dir}/key.pem`), cert: fs.readFileSync(`${dir}/cert.pem`) }, (c) => {
      const up = net.connect(Number(uport), uhost);
      c.pipe(up).pipe(c);
      for (const s of [c, up]) {
        sockets.add(s);
        s.on('error', () => undefined).on('close', () => sockets.delete(s));
      }
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, host, r));
    const addr = `${host}:${(server.address() as net.AddressInfo).port}`;
    try {
      const refused = await skiff(['pull', `${addr}/busybox`], { store });
      oneErrorLine(refused, new RegExp(`pull ${addr.replace(/\./g, '\\.')}/busybox:latest: TLS connection to registry ${addr.replace(/\./g, '\\.')} failed: .*certificate`));
      assert.deepEqual(leftovers(store), []);
      // a stale hint (this registry speaks plain HTTP) is found wrong by use, and replaced
      const hints = path.join(store.runroot, 'registry-schemes.json');
      const known = JSON.parse(fs.readFileSync(hints, 'utf8')) as Record<string, string>;
      assert.equal(known[fx.registry], 'http', 'the plain-HTTP fixture registry (earlier tests) was remembered');
      assert.equal(known[addr], undefined, 'a registry that answered nothing is not remembered');
      fs.writeFileSync(hints, JSON.stringify({ ...known, [addr]: 'http' }));
      const ok = await skiff(['pull', '--tls-verify=false', `${addr}/busybox`], { store });
      assert.equal(ok.code, 0, ok.stderr);
      const learnt = JSON.parse(fs.readFileSync(hints, 'utf8')) as Record<string, string>;
      assert.equal(learnt[addr], 'https');
      assert.equal(ok.stdout.trim().split('\n').pop(), `${addr}/busybox:latest`);
      const listed = await skiff(['pull', '-q', `${addr}/busybox`], { store, env: { SKIFF_INSECURE_REGISTRIES: addr } });
      assert.equal(listed.code, 0, listed.stderr);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('disk full: a store on a 4 MiB tmpfs fails in one line and keeps nothing half-written', { skip: isRootless() && 'mounting a tmpfs needs root' }, async () => {
    const s = await tempStore();
    fs.mkdirSync(s.root, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', s.root]);
    try {
      const r = await skiff(['pull', fx.debian], { store: s });
      oneErrorLine(r, new RegExp(`^Error: pull ${fx.debian}: no space left on device`));
      assert.deepEqual(leftovers(s), []);
      const blobs = fs.readdirSync(path.join(s.root, 'blobs', 'sha256'));
      assert.deepEqual(blobs, [], 'no blob kept');
    } finally {
      execFileSync('umount', [s.root]);
      await s.cleanup();
    }
  });
});
