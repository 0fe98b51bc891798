/**
 * `push`, `save`, `load` through the CLI binary, checked against the peers: skopeo reads what skiff
 * pushed, podman pulls and runs it, podman loads what skiff saved and skiff loads what podman and
 * skopeo wrote. podman runs on its own temporary storage (vfs) so the machine's is untouched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync, spawnSync } from 'node:child_process';
import { Header } from 'tar';
import { fixtures, isRootless, registry, SKIFF_BIN, skiff, skopeoInspect, tempStore, type TempStore } from '../helpers/fixtures.js';

// podman's own rootless setup (subuids for its storage) is not what these tests are about
const noPodman = isRootless() ? 'podman interop runs in the rootful pass' : false;

/** Repositories are new on every run: a registry kept between runs must not already hold them. */
const runId = `r${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
let work: string;
let podmanConf: string;

function podman(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('podman', ['--root', path.join(work, 'podman/root'), '--runroot', path.join(work, 'podman/run'), '--storage-driver', 'vfs', ...args], {
    env: { ...process.env, CONTAINERS_CONF: podmanConf },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function podmanOk(args: string[]): string {
  const r = podman(args);
  assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** skiff with binary stdin. */
function skiffWithInput(args: string[], store: TempStore, input: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SKIFF_BIN, args, { env: { ...process.env, NO_COLOR: '1', ...store.env }, input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function ok(args: string[], store: TempStore, env?: Record<string, string>): Promise<string> {
  const r = await skiff(args, { store, ...(env ? { env } : {}) });
  assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const imageId = async (ref: string, store: TempStore): Promise<string> => (await ok(['image', 'inspect', '--format', '{{.Id}}', ref], store)).trim();

/** Store contents that a failed load must not have touched. */
function storeState(store: TempStore): { images: string[]; layers: string[]; tmp: string[] } {
  const ls = (d: string): string[] => (fs.existsSync(path.join(store.root, d)) ? fs.readdirSync(path.join(store.root, d)).sort() : []);
  return {
    images: ls('images').filter((f) => f !== 'repositories.json'),
    layers: ls('layers').filter((f) => f !== 'l'),
    tmp: ls('tmp'),
  };
}

/** Flip one byte in the middle of the first archive member whose name matches and is bigger than 1 KiB. */
function corrupt(src: string, dst: string, match: RegExp): string {
  const buf = fs.readFileSync(src);
  for (let off = 0; off + 512 <= buf.length; ) {
    const name = buf.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(buf.toString('latin1', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (match.test(name) && size > 1024) {
      buf[off + 512 + Math.floor(size / 2)] ^= 0xff;
      fs.writeFileSync(dst, buf);
      return name;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no member matching ${match} in ${src}`);
}

/** A tar archive written byte by byte (GNU tar would clean the hostile names this needs). */
function rawTar(entries: { path: string; data: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data);
    const h = new Header({ path: e.path, mode: 0o644, size: data.length, mtime: new Date(0), type: 'File' });
    h.encode();
    parts.push(h.block!, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A pass-through proxy in front of the registry that records the requests (method, bytes). */
function countingProxy(target: string): Promise<{ addr: string; requests: { method: string; url: string; bytes: number }[]; close(): void }> {
  const [host, port] = target.split(':') as [string, string];
  const requests: { method: string; url: string; bytes: number }[] = [];
  const server = http.createServer((req, res) => {
    const rec = { method: req.method ?? '', url: req.url ?? '', bytes: 0 };
    requests.push(rec);
    req.on('data', (c: Buffer) => (rec.bytes += c.length));
    // the Host header is kept: the registry builds upload Locations from it, so they lead back here
    const up = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address() as { port: number };
      resolve({ addr: `127.0.0.1:${a.port}`, requests, close: () => server.close() });
    });
  });
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-xfer-'));
  podmanConf = path.join(work, 'containers.conf');
  // podman may not raise rlimits above the hard limits here (GUIDE §6)
  const hard = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim();
  fs.writeFileSync(podmanConf, `[containers]\ndefault_ulimits = ["nofile=${hard}:${hard}", "nproc=4096:4096"]\n`);
});
after(() => {
  if (!isRootless()) podman(['rmi', '-af']);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('push', () => {
  let store: TempStore;
  let source: string;
  before(async () => {
    store = await tempStore();
    source = fixtures().busybox;
    await ok(['pull', '-q', source], store);
  });
  after(async () => store.cleanup());

  test('push to another repository of the same registry mounts the layers and keeps the digest', async () => {
    const target = `${registry()}/${runId}/pushed/busybox:1`;
    await ok(['tag', source, target], store);
    const out = await ok(['push', target], store);
    const lines = out.trim().split('\n');
    assert.equal(lines[0], `The push refers to repository [${registry()}/${runId}/pushed/busybox]`);
    assert.ok(lines.some((l) => /^[0-9a-f]{12}: Mounted from busybox$/.test(l)), out);
    const src = skopeoInspect(source);
    const pushed = skopeoInspect(target);
    assert.match(lines[lines.length - 1]!, new RegExp(`^1: digest: ${String(pushed.Digest)} size: \\d+$`));
    assert.equal(pushed.Digest, src.Digest, 'the stored manifest is pushed byte for byte');
    assert.deepEqual(pushed.Layers, src.Layers);
    const cfg = skopeoInspect(target, true) as { rootfs: { diff_ids: string[] } };
    const inspect = JSON.parse(await ok(['image', 'inspect', target], store)) as { RootFS: { Layers: string[] }; RepoDigests: string[] }[];
    assert.deepEqual(cfg.rootfs.diff_ids, inspect[0]!.RootFS.Layers);
    assert.ok(inspect[0]!.RepoDigests.includes(`${registry()}/${runId}/pushed/busybox@${String(pushed.Digest)}`), 'the new repo digest is recorded');
  });

  test('pushing again finds every layer already there', async () => {
    const out = await ok(['push', `${registry()}/${runId}/pushed/busybox:1`], store);
    assert.match(out, /: Layer already exists/);
    assert.doesNotMatch(out, /: Pushed/);
  });

  test('a second repository mounts from the first', async () => {
    const target = `${registry()}/${runId}/pushed2/busybox:2`;
    await ok(['tag', source, target], store);
    const out = await ok(['push', target], store);
    assert.match(out, new RegExp(`: Mounted from (busybox|${runId}/pushed/busybox)\n`));
    assert.equal(skopeoInspect(target).Digest, skopeoInspect(source).Digest);
  });

  test('podman pulls and runs what skiff pushed', { skip: noPodman }, async () => {
    const target = `${registry()}/${runId}/pushed/busybox:1`;
    podmanOk(['pull', '-q', '--tls-verify=false', target]);
    const out = podmanOk(['run', '--rm', target, 'sh', '-c', 'echo pushed-ok; ls /bin/busybox']);
    assert.equal(out, 'pushed-ok\n/bin/busybox\n');
  });

  test('chunked upload (SKIFF_PUSH_CHUNK_SIZE) through a registry that has nothing to mount', async () => {
    const proxy = await countingProxy(registry());
    try {
      const target = `${proxy.addr}/${runId}/chunked/busybox:1`;
      await ok(['tag', source, target], store);
      const out = await ok(['push', target], store, { SKIFF_PUSH_CHUNK_SIZE: '65536' });
      assert.match(out, /[0-9a-f]{12}: Pushed\n/);
      const patches = proxy.requests.filter((r) => r.method === 'PATCH');
      assert.ok(patches.length > 3, `expected several PATCH requests, got ${patches.length}`);
      assert.ok(patches.every((r) => r.bytes <= 65536), 'no chunk is larger than the chunk size');
      assert.ok(!proxy.requests.some((r) => r.method === 'PUT' && r.url.includes('/blobs/') && r.bytes > 0), 'the closing PUT carries no data');
      // the registry verified every digest; a full copy re-verifies them
      execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${registry()}/${runId}/chunked/busybox:1`, `dir:${path.join(work, 'chunked-copy')}`]);
      assert.equal(skopeoInspect(`${registry()}/${runId}/chunked/busybox:1`).Digest, skopeoInspect(source).Digest);
    } finally {
      proxy.close();
    }
  });

  test('errors: unknown local image, unreachable registry, access denied', async () => {
    const missing = await skiff(['push', `${registry()}/nope/nothing:1`], { store });
    assert.equal(missing.code, 125);
    assert.equal(missing.stderr, `Error: An image does not exist locally with the tag: ${registry()}/nope/nothing:1\n`);

    await ok(['tag', source, '127.0.0.1:1/x/busybox:1'], store);
    const down = await skiff(['push', '127.0.0.1:1/x/busybox:1'], { store });
    assert.equal(down.code, 125);
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
    assert.match(down.stderr, /^Error: .*127\.0\.0\.1:1.*(unreachable|ECONNREFUSED)/);

    const authReg = process.env.SKIFF_TEST_AUTH_REGISTRY;
    if (authReg) {
      await ok(['tag', source, `${authReg}/${runId}/private/busybox:1`], store);
      const denied = await skiff(['push', `${authReg}/${runId}/private/busybox:1`], { store });
      assert.equal(denied.code, 125);
      assert.equal(denied.stderr.trim().split('\n').length, 1, denied.stderr);
      assert.match(denied.stderr, /^Error: .*private\/busybox.*(unauthorized|denied)/);
    }
  });
});

describe('save and load', () => {
  let store: TempStore;
  let dir: string;
  let busybox: string;
  let multilayer: string;
  before(async () => {
    dir = path.join(work, 'archives');
    fs.mkdirSync(dir);
    store = await tempStore();
    busybox = fixtures().busybox;
    multilayer = fixtures().multilayer;
    await ok(['pull', '-q', busybox], store);
    await ok(['pull', '-q', multilayer], store);
  });
  after(async () => store.cleanup());

  test('save writes a docker-archive that podman loads with the same image ids', { skip: noPodman }, async () => {
    const file = path.join(dir, 'two.tar');
    await ok(['save', '-o', file, busybox, multilayer], store);
    const names = execFileSync('tar', ['tf', file]).toString().split('\n');
    for (const n of ['manifest.json', 'index.json', 'oci-layout', 'repositories']) assert.ok(names.includes(n), `${n} in the archive`);
    podmanOk(['rmi', '-af']);
    const out = podman(['load', '-i', file]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`Loaded image: ${busybox.replace(/[.]/g, '\\.')}`));
    const ids = podmanOk(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(ids, new RegExp(`${busybox} ${(await imageId(busybox, store)).replace('sha256:', '(sha256:)?')}`));
    assert.match(ids, new RegExp(`${multilayer} ${(await imageId(multilayer, store)).replace('sha256:', '(sha256:)?')}`));
    assert.equal(podmanOk(['run', '--rm', multilayer, 'sh', '-c', 'cat /data/opaque/both; ls /data/doomed 2>&1 || true']).split('\n')[0], 'upper');
  });

  test('save --format oci-archive: skopeo reads it, the manifest digest survives', async () => {
    const file = path.join(dir, 'bb-oci.tar');
    await ok(['save', '--format', 'oci-archive', '-o', file, busybox], store);
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}`]).toString()) as { Digest: string };
    assert.equal(inspected.Digest, skopeoInspect(busybox).Digest);
  });

  test('skiff save | skiff load into another store, gzip-compressed, through stdin', async () => {
    const file = path.join(dir, 'bb.tar');
    await ok(['save', '-o', file, busybox], store);
    const other = await tempStore();
    try {
      const r = skiffWithInput(['load'], other, zlib.gzipSync(fs.readFileSync(file)));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Loaded image: ${busybox}\n`);
      assert.equal(await imageId(busybox, other), await imageId(busybox, store));
      const run = await skiff(['run', '--rm', busybox, 'echo', 'loaded-ok'], { store: other });
      assert.equal(run.stdout, 'loaded-ok\n', run.stderr);
    } finally {
      await other.cleanup();
    }
  });

  test('podman save --format docker-archive → skiff load', { skip: noPodman }, async () => {
    podmanOk(['pull', '-q', '--tls-verify=false', multilayer]);
    const file = path.join(dir, 'podman-ml.tar');
    podmanOk(['save', '--format', 'docker-archive', '-o', file, multilayer]);
    const other = await tempStore();
    try {
      const r = await skiff(['load', '-i', file], { store: other });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Loaded image: ${multilayer}\n`);
      assert.equal(await imageId(multilayer, other), await imageId(multilayer, store));
      const images = await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'], other);
      assert.equal(images, `${multilayer}\n`);
      const run = await skiff(['run', '--rm', multilayer, 'cat', '/data/opaque/both'], { store: other });
      assert.equal(run.stdout, 'upper\n', run.stderr);
      // a loaded image can be pushed (its layers were stored gzipped)
      const target = `${registry()}/${runId}/loaded/multilayer:1`;
      await ok(['tag', multilayer, target], other);
      await ok(['push', target], other);
      const cfg = skopeoInspect(target, true) as { rootfs: { diff_ids: string[] } };
      const src = skopeoInspect(multilayer, true) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(cfg.rootfs.diff_ids, src.rootfs.diff_ids);
    } finally {
      await other.cleanup();
    }
  });

  test('skopeo copy → oci-archive → skiff load keeps the manifest; push gives the source digest', async () => {
    const file = path.join(dir, 'skopeo-oci.tar');
    execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${busybox}`, `oci-archive:${file}`]);
    const other = await tempStore();
    try {
      const r = await skiff(['load', '-i', file], { store: other });
      assert.equal(r.code, 0, r.stderr);
      const id = await imageId(busybox, store);
      assert.equal(r.stdout, `Loaded image ID: ${id}\n`, 'an index entry without a name loads untagged');
      const target = `${registry()}/${runId}/from-oci/busybox:1`;
      await ok(['tag', id, target], other);
      const out = await ok(['push', target], other);
      assert.match(out, new RegExp(`1: digest: ${skopeoInspect(busybox).Digest as string} size`));
    } finally {
      await other.cleanup();
    }
  });

  test('a corrupted archive fails with a digest error and leaves nothing behind', async () => {
    const good = path.join(dir, 'good.tar');
    await ok(['save', '-o', good, busybox], store);
    const other = await tempStore();
    try {
      await ok(['images'], other);
      const before = storeState(other);
      // a docker-archive layer (blobs/sha256/<diffID>, uncompressed)
      const bad = path.join(dir, 'bad.tar');
      corrupt(good, bad, /^blobs\/sha256\//);
      const r = await skiff(['load', '-i', bad], { store: other });
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: .*digest.*\n$/);
      assert.deepEqual(storeState(other), before);
      // a classic layout layer (<id>/layer.tar, checked against the config's diffIDs)
      if (!isRootless()) {
        podmanOk(['pull', '-q', '--tls-verify=false', busybox]);
        const classic = path.join(dir, 'classic.tar');
        podmanOk(['save', '--format', 'docker-archive', '-o', classic, busybox]);
        corrupt(classic, bad, /\.tar$/);
        const r2 = await skiff(['load', '-i', bad], { store: other });
        assert.equal(r2.code, 125);
        assert.match(r2.stderr, /^Error: .*digest.*\n$/);
        assert.deepEqual(storeState(other), before);
      }
      // an OCI archive's compressed blob
      const oci = path.join(dir, 'good-oci.tar');
      await ok(['save', '--format', 'oci-archive', '-o', oci, busybox], store);
      corrupt(oci, bad, /^blobs\/sha256\//);
      const r3 = await skiff(['load', '-i', bad], { store: other });
      assert.equal(r3.code, 125);
      assert.match(r3.stderr, /^Error: .*digest.*\n$/);
      assert.deepEqual(storeState(other), before);
    } finally {
      await other.cleanup();
    }
  });

  test('archive paths that climb out are refused', async () => {
    const other = await tempStore();
    try {
      await ok(['images'], other);
      const evil = path.join(dir, 'evil.tar');
      fs.writeFileSync(evil, rawTar([{ path: 'a/../../escaped', data: 'x' }, { path: 'manifest.json', data: '[]' }]));
      const r = await skiff(['load', '-i', evil], { store: other });
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: invalid image archive: .*outside the archive/);
      assert.ok(!fs.existsSync(path.join(other.root, '..', 'escaped')));
      assert.deepEqual(storeState(other).tmp, []);
    } finally {
      await other.cleanup();
    }
  });

  test('save refuses to write to a terminal', async () => {
    const env = { ...process.env, ...store.env };
    const r = spawnSync('script', ['-qec', `${SKIFF_BIN} save ${busybox}`, '/dev/null'], { env, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
  });

  test('save of an unknown image fails without writing the output file', async () => {
    const file = path.join(dir, 'none.tar');
    const r = await skiff(['save', '-o', file, 'no-such-image:1'], { store });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: No such image: no-such-image:1\n$/);
    assert.ok(!fs.existsSync(file));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('none.tar')), []);
  });
});
