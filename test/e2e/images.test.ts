/**
 * pull, images, rmi, tag, inspect, history, login/logout through the CLI against Debian's
 * docker-registry, with images made by umoci and pushed by skopeo: our results are checked
 * against those tools' own view of the same bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { authRegistry, fixtures, skiff, skopeoInspect, tempStore, type TempStore } from '../helpers/fixtures.js';

interface Inspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  RootFS: { Layers: string[] };
  Config: { Cmd: string[]; Env: string[]; User?: string; WorkingDir?: string };
  Architecture: string;
}

async function inspect(ref: string, store: TempStore): Promise<Inspect> {
  const r = await skiff(['image', 'inspect', ref], { store });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Inspect[])[0]!;
}

describe('images', () => {
  let store: TempStore;
  const fx = fixtures();
  before(async () => {
    store = await tempStore();
  });
  after(async () => store.cleanup());

  test('pull prints Docker-style lines and the image matches skopeo: id, diffIDs, config', async () => {
    const r = await skiff(['pull', fx.busybox], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^latest: Pulling from busybox$/m);
    assert.match(r.stdout, /: Pull complete$/m);
    assert.match(r.stdout, /^Digest: sha256:[0-9a-f]{64}$/m);
    assert.equal(r.stdout.trim().split('\n').pop(), fx.busybox);
    const ours = await inspect(fx.busybox, store);
    const theirs = skopeoInspect(fx.busybox) as { Digest: string; Layers: string[] };
    const cfg = skopeoInspect(fx.busybox, true) as { rootfs: { diff_ids: string[] }; config: { Cmd: string[] } };
    assert.deepEqual(ours.RootFS.Layers, cfg.rootfs.diff_ids);
    assert.deepEqual(ours.Config.Cmd, cfg.config.Cmd);
    assert.ok(ours.RepoDigests.some((d) => d.endsWith(`@${theirs.Digest}`)), JSON.stringify(ours.RepoDigests));
    const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${fx.busybox}`]);
    const manifest = JSON.parse(raw.toString()) as { config: { digest: string } };
    assert.equal(ours.Id, manifest.config.digest, 'image id is the config digest');
  });

  test('images lists it with Docker columns, -q and --format', async () => {
    const r = await skiff(['images'], { store });
    assert.match(r.stdout.split('\n')[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const repo = fx.busybox.replace(/:latest$/, '');
    assert.match(r.stdout, new RegExp(`^${repo.replace(/\./g, '\\.')}\\s+latest\\s+[0-9a-f]{12}\\s`, 'm'));
    const q = await skiff(['images', '-q'], { store });
    assert.match(q.stdout, /^[0-9a-f]{12}\n$/);
    const f = await skiff(['images', '--format', '{{.Repository}}:{{.Tag}}'], { store });
    assert.equal(f.stdout, `${fx.busybox}\n`);
  });

  test('a multi-layer image with whiteouts, opaque dirs, hard links, setuid and owners extracts like umoci does', async () => {
    const r = await skiff(['pull', '-q', fx.multilayer], { store });
    assert.equal(r.code, 0, r.stderr);
    const c = await skiff(['run', '--rm', '--user', '0', fx.multilayer, 'sh', '-c',
      'cd /data && for f in $(find . | sort); do stat -c "%n %F %a %u:%g %h" "$f"; done; cat opaque/both; ls opaque'], { store });
    assert.equal(c.code, 0, c.stderr);
    const expect = fs.readFileSync(fx.multilayerDataList, 'utf8').trim().split('\n');
    const got = c.stdout.trim().split('\n');
    // directories' link counts depend on the filesystem: compare them without it
    const norm = (l: string): string => (l.includes(' directory ') ? l.replace(/ \d+$/, '') : l);
    assert.deepEqual(got.filter((l) => l.startsWith('.')).map(norm).sort(), expect.map(norm).sort());
    assert.ok(!got.some((l) => l.includes('doomed') || l.includes('gone-dir')), 'whiteouts hide deleted entries');
    assert.ok(got.includes('upper'), 'opaque dir content replaced');
    assert.ok(!got.includes('lower-only'), 'opaque dir hides the lower layer');
    const cap = await skiff(['run', '--rm', '--user', '0', fx.multilayer, 'sh', '-c', 'grep -c . /proc/self/status >/dev/null; ls -l /data/suid'], { store });
    assert.match(cap.stdout, /^-rwsr-xr-x/);
  });

  test('Docker v2s2 manifests and manifest lists (platform selection) pull too', async () => {
    const v2 = await skiff(['pull', '-q', fx.busyboxV2s2], { store });
    assert.equal(v2.code, 0, v2.stderr);
    assert.equal((await inspect(fx.busyboxV2s2, store)).Id, (await inspect(fx.busybox, store)).Id);
    const amd = await skiff(['pull', '-q', fx.multiarch], { store });
    assert.equal(amd.code, 0, amd.stderr);
    assert.equal((await inspect(fx.multiarch, store)).Architecture, 'amd64');
    const arm = await skiff(['pull', '-q', '--platform', 'linux/arm64', fx.multiarch], { store });
    assert.equal(arm.code, 0, arm.stderr);
    assert.equal((await inspect(fx.multiarch, store)).Architecture, 'arm64');
    const none = await skiff(['pull', '-q', '--platform', 'linux/s390x', fx.multiarch], { store });
    assert.equal(none.code, 125);
    assert.match(none.stderr, /^Error: pull .*multiarch:latest: no image found in manifest list for platform linux\/s390x/m);
  });

  test('tag, rmi untags then deletes, and unreferenced layers go away', async () => {
    assert.equal((await skiff(['tag', fx.busybox, 'mybox:1'], { store })).code, 0);
    const un = await skiff(['rmi', 'mybox:1'], { store });
    assert.equal(un.stdout, 'Untagged: mybox:1\n');
    const s = await tempStore();
    try {
      await skiff(['pull', '-q', fx.busybox], { store: s });
      const layers = () => fs.readdirSync(`${s.root}/layers`).filter((n) => /^[0-9a-f]{64}$/.test(n));
      assert.equal(layers().length, 1);
      const rm = await skiff(['rmi', fx.busybox], { store: s });
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stdout, /^Deleted: sha256:/m);
      assert.equal(layers().length, 0);
      const again = await skiff(['rmi', fx.busybox], { store: s });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Error: No such image/);
    } finally {
      await s.cleanup();
    }
  });

  test('rmi refuses an image a container uses, unless -f', async () => {
    const c = await skiff(['create', '--name', 'user1', fx.busybox, 'true'], { store });
    assert.equal(c.code, 0, c.stderr);
    await skiff(['tag', fx.busybox, 'only:1'], { store });
    await skiff(['rmi', fx.busyboxV2s2, fx.otherBusybox], { store });
    const r = await skiff(['rmi', (await inspect(fx.busybox, store)).Id.slice(7, 19)], { store });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: conflict/m);
    assert.equal((await skiff(['rm', 'user1'], { store })).code, 0);
  });

  test('history shows the image layers', async () => {
    const r = await skiff(['history', fx.busybox], { store });
    assert.match(r.stdout.split('\n')[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(r.stdout, /umoci/);
  });

  test('a corrupt blob is refused and nothing of it is kept', async () => {
    const s = await tempStore();
    const [host, port] = fx.registry.split(':');
    const proxy = http.createServer((req, res) => {
      const up = http.request({ host, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) {
          let first = true;
          ur.on('data', (c: Buffer) => {
            if (first && c.length > 100) {
              c = Buffer.from(c);
              c[c.length - 1]! ^= 0xff;
              first = false;
            }
            res.write(c);
          });
          ur.on('end', () => res.end());
        } else ur.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const addr = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const r = await skiff(['pull', `${addr}/multilayer:latest`], { store: s });
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: .*(digest|size) mismatch/m);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('Error')).length, 1);
      const layers = fs.existsSync(`${s.root}/layers`) ? fs.readdirSync(`${s.root}/layers`).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
      const images = fs.existsSync(`${s.root}/images`) ? fs.readdirSync(`${s.root}/images`).filter((n) => n.endsWith('.json') && n !== 'repositories.json') : [];
      assert.deepEqual(images, []);
      // layers that verified before the corrupt one may stay (they are complete); the corrupt one may not
      const tmp = fs.existsSync(`${s.root}/tmp`) ? fs.readdirSync(`${s.root}/tmp`) : [];
      assert.deepEqual(tmp, [], 'no staging left behind');
      assert.ok(layers.length < 4);
    } finally {
      proxy.close();
      await s.cleanup();
    }
  });

  test('errors: unknown tag, unreachable registry, bad reference — one line, exit 125', async () => {
    const nf = await skiff(['pull', `${fx.registry}/busybox:nope`], { store });
    assert.equal(nf.code, 125);
    assert.match(nf.stderr, /^Error: manifest for .*busybox:nope not found: manifest unknown\n$/);
    const down = await skiff(['pull', '127.0.0.1:9/busybox'], { store });
    assert.equal(down.code, 125);
    assert.match(down.stderr, /^Error: pull 127\.0\.0\.1:9\/busybox:latest: registry 127\.0\.0\.1:9 is unreachable: .*ECONNREFUSED/);
    const bad = await skiff(['pull', 'Busybox'], { store });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid reference format: repository name must be lowercase/);
  });

  test('login stores credentials (0600) that pull uses; logout removes them', async () => {
    const reg = authRegistry();
    const s = await tempStore();
    try {
      const denied = await skiff(['pull', `${reg}/busybox`], { store: s });
      assert.equal(denied.code, 125);
      assert.match(denied.stderr, /^Error: .*(unauthorized|authentication required)/m);
      const wrong = await skiff(['login', '-u', 'testuser', '--password-stdin', reg], { store: s, input: 'nope\n' });
      assert.equal(wrong.code, 125);
      assert.match(wrong.stderr, /^Error: .*unauthorized/m);
      const ok = await skiff(['login', '-u', 'testuser', '--password-stdin', reg], { store: s, input: 'testpass\n' });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, 'Login Succeeded\n');
      const file = `${s.home}/.docker/config.json`;
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
      assert.equal(Buffer.from(cfg.auths[reg]!.auth, 'base64').toString(), 'testuser:testpass');
      // the auth registry is empty: a 404 after successful auth proves the credentials were used
      const pulled = await skiff(['pull', `${reg}/busybox`], { store: s });
      assert.match(pulled.stderr, /not found|manifest unknown/);
      const out = await skiff(['logout', reg], { store: s });
      assert.equal(out.code, 0);
      assert.deepEqual(Object.keys((JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: object }).auths), []);
    } finally {
      await s.cleanup();
    }
  });

});
