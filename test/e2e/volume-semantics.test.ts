/**
 * Volume semantics as a container sees them: copy-up of a new volume from the image (owners, modes,
 * setuid, hard links, symlinks, xattrs and file capabilities, compared with the image's own listing
 * and with podman's copy of the same image), `nocopy` and `volume-nocopy`, a volume used once is
 * never filled again, recovery from a crashed copy-up; an anonymous volume per image VOLUME (gone with
 * `rm -v` and `run --rm`); `--volumes-from C[:ro|rw]`; `:U`; propagation options; `--mount
 * type=volume,volume-opt=...`; a missing `-v` host directory made, a missing `--mount` source refused.
 * Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, isRootless, removeTree, storeCli, storeWithImage, type TempStore } from '../helpers/fixtures.js';
import { podmanRunSkip, PODMAN_LIMITS } from '../helpers/podman.js';

const LIST = 'cd /data && for f in $(find . | sort); do stat -c "%n %F %a %u:%g %h" "$f"; done';
// directories' link counts depend on the filesystem
const norm = (l: string): string => (l.includes(' directory ') ? l.replace(/ \d+$/, '') : l);
const listing = (out: string): string[] => out.trim().split('\n').filter((l) => l.startsWith('.')).map(norm).sort();

/** An xattr of a host file (python: node has no getxattr), hex, or '' when it has none. */
function xattr(file: string, name: string): string {
  const r = spawnSync('python3', ['-c', 'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print("")', file, name], { encoding: 'utf8' });
  return r.stdout.trim();
}

describe('volume semantics', () => {
  let store: TempStore;
  let busybox: string;
  let dir: string;
  const ml = fixtures().multilayer;
  const { sk, ok } = storeCli(() => store);
  const dataDir = (vol: string): string => path.join(store.root, 'volumes', vol, '_data');
  const inspect = async (c: string): Promise<{ Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean; Mode: string }[] }> =>
    (JSON.parse(await ok(['inspect', c])) as [never])[0];

  before(async () => {
    ({ store, image: busybox } = await storeWithImage());
    await ok(['pull', '-q', ml]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-volsem-'));
    fs.chmodSync(dir, 0o777);
  });
  after(async () => {
    removeTree(dir); // rootless, :U gave some of it to a subordinate id
    await store.cleanup();
  });

  test('a new named volume on a non-empty image directory is filled from it: owners, modes, links, xattrs, capabilities', async () => {
    const got = listing(await ok(['run', '--rm', '--user', '0', '-v', 'cu:/data', ml, 'sh', '-c', LIST]));
    const expect = fs.readFileSync(fixtures().multilayerDataList, 'utf8').trim().split('\n').map(norm).sort();
    assert.deepEqual(got, expect);
    // the files are in the volume itself (seen by the next container, and on the host)
    assert.deepEqual(listing(await ok(['run', '--rm', '--user', '0', '-v', 'cu:/data', busybox, 'sh', '-c', LIST])), expect);
    assert.equal(xattr(path.join(dataDir('cu'), 'xattr-file'), 'user.skiff'), '31');
    assert.notEqual(xattr(path.join(dataDir('cu'), 'capbin'), 'security.capability'), '', 'file capabilities kept');
    assert.equal(fs.readlinkSync(path.join(dataDir('cu'), 'abs-link')), '/data/owned');
    const h1 = fs.statSync(path.join(dataDir('cu'), 'hard1'));
    assert.equal(fs.statSync(path.join(dataDir('cu'), 'hard2')).ino, h1.ino, 'hard links stay links');
    assert.ok(!fs.existsSync(path.join(store.root, 'volumes/cu/copyup')), 'the first-use mark is gone');
    assert.ok(!fs.existsSync(path.join(store.root, 'volumes/cu/_copyup')), 'no staging left');
    // rootless: the volume's root belongs to the user (the container's root), the files to the mapped ids
    if (isRootless()) assert.equal(fs.statSync(dataDir('cu')).uid, process.getuid!());
  });

  test('the same copy-up as podman on the same image', { skip: podmanRunSkip }, async () => {
    const vol = `skiff-volsem-${process.pid}`;
    const run = (args: string[]): ReturnType<typeof spawnSync> => spawnSync('podman', args, { encoding: 'utf8', timeout: 120_000 });
    const pulled = run(['pull', '-q', '--tls-verify=false', ml]);
    assert.equal(pulled.status, 0, String(pulled.stderr));
    try {
      const p = run(['run', '--rm', ...PODMAN_LIMITS, '--user', '0', '-v', `${vol}:/data`, ml, 'sh', '-c', LIST]);
      assert.equal(p.status, 0, String(p.stderr));
      const s = await ok(['run', '--rm', '--user', '0', '-v', 'cu-peer:/data', ml, 'sh', '-c', LIST]);
      assert.deepEqual(listing(s), listing(String(p.stdout)));
    } finally {
      run(['volume', 'rm', '-f', vol]);
      run(['rmi', '-f', ml]);
    }
  });

  test('nocopy and volume-nocopy leave the volume empty; a volume once used is not filled later; one with files never', async () => {
    assert.equal(await ok(['run', '--rm', '-v', 'nc1:/data:nocopy', ml, 'ls', '-A', '/data']), '');
    assert.equal(await ok(['run', '--rm', '--mount', 'type=volume,src=nc2,dst=/data,volume-nocopy', ml, 'ls', '-A', '/data']), '');
    assert.equal(await ok(['run', '--rm', '--mount', 'type=volume,src=nc3,dst=/data,volume-nocopy=false', ml, 'ls', '/data/sub']), 'deeper\n');
    // first used on an empty directory: later mounts on /data find it as it was (Podman's rule)
    await ok(['run', '--rm', '-v', 'used:/mnt', busybox, 'true']);
    assert.equal(await ok(['run', '--rm', '-v', 'used:/data', ml, 'ls', '-A', '/data']), '');
    // created by `volume create` and given a file before its first use: kept as it is (Docker)
    await ok(['volume', 'create', 'prefilled']);
    fs.writeFileSync(path.join(dataDir('prefilled'), 'mine'), 'x');
    assert.equal(await ok(['run', '--rm', '-v', 'prefilled:/data', ml, 'ls', '-A', '/data']), 'mine\n');
  });

  test('a copy-up that crashed (staging left, mark kept) is done again from the start', async () => {
    await ok(['volume', 'create', 'crashed']);
    const stage = path.join(store.root, 'volumes/crashed/_copyup');
    fs.mkdirSync(path.join(stage, 'half'), { recursive: true });
    fs.writeFileSync(path.join(stage, 'half/partial'), 'x');
    assert.ok(fs.existsSync(path.join(store.root, 'volumes/crashed/copyup')));
    const got = listing(await ok(['run', '--rm', '--user', '0', '-v', 'crashed:/data', ml, 'sh', '-c', LIST]));
    assert.deepEqual(got, fs.readFileSync(fixtures().multilayerDataList, 'utf8').trim().split('\n').map(norm).sort());
    assert.ok(!fs.existsSync(stage));
  });

  test("each VOLUME of the image gets an anonymous volume, filled from the image; rm -v and run --rm remove it", async () => {
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-volctx-'));
    try {
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${busybox}\nRUN mkdir -p /vol /kept && echo img > /vol/f && chown 1000:1000 /vol/f && chmod 0640 /vol/f\nVOLUME /vol\nVOLUME ["/kept/"]\n`);
      await ok(['build', '-q', '-t', 'withvol:1', ctx]);
    } finally {
      fs.rmSync(ctx, { recursive: true, force: true });
    }
    const vols = (): string[] => fs.readdirSync(path.join(store.root, 'volumes')).sort();
    const before = vols();
    assert.equal(await ok(['run', '--name', 'iv', 'withvol:1', 'sh', '-c', 'stat -c "%u:%g %a" /vol/f; cat /vol/f']), '1000:1000 640\nimg\n');
    const m = (await inspect('iv')).Mounts;
    assert.deepEqual(m.map((x) => [x.Type, x.Destination]).sort(), [['volume', '/kept'], ['volume', '/vol']]);
    for (const x of m) assert.match(x.Name ?? '', /^[0-9a-f]{64}$/);
    assert.equal(vols().length, before.length + 2);
    // a mount the user gives on the same path replaces it
    const named = await ok(['run', '--rm', '-v', 'mine:/vol', 'withvol:1', 'cat', '/vol/f']);
    assert.equal(named, 'img\n');
    await ok(['rm', '-v', 'iv']);
    await ok(['run', '--rm', 'withvol:1', 'true']);
    assert.deepEqual(vols(), [...before, 'mine'].sort());
  });

  test('--volumes-from: the other container\'s volumes and binds, its mode or the one given', async () => {
    fs.writeFileSync(path.join(dir, 'host-file'), 'host\n');
    await ok(['create', '--name', 'src', '-v', 'shared:/a', '-v', `${dir}:/b:ro`, '--tmpfs', '/t', busybox, 'true']);
    await ok(['run', '--rm', '--volumes-from', 'src', busybox, 'sh', '-c', 'echo from-a > /a/f']);
    assert.equal(await ok(['run', '--rm', '--volumes-from', 'src', busybox, 'sh', '-c', 'cat /a/f /b/host-file; touch /b/x 2>/dev/null || echo b-ro']), 'from-a\nhost\nb-ro\n');
    const ro = await sk(['run', '--rm', '--volumes-from', 'src:ro', busybox, 'sh', '-c', 'touch /a/g']);
    assert.notEqual(ro.code, 0);
    await ok(['create', '--name', 'vf', '--volumes-from', 'src:ro', '-v', 'own:/b', busybox, 'true']);
    const m = (await inspect('vf')).Mounts.map((x) => [x.Destination, x.Type, x.Name ?? x.Source, x.RW]).sort();
    assert.deepEqual(m, [['/a', 'volume', 'shared', false], ['/b', 'volume', 'own', true]]);
    const missing = await sk(['run', '--rm', '--volumes-from', 'no-such', busybox, 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: .*no-such/);
    await ok(['rm', 'vf', 'src']);
  });

  test(':U gives the mount to the container\'s user', async () => {
    assert.equal(await ok(['run', '--rm', '--user', '1000:1001', '-v', 'uvol:/data:U', busybox, 'sh', '-c', 'stat -c %u:%g /data; touch /data/f && stat -c %u:%g /data/f']), '1000:1001\n1000:1001\n');
    const b = path.join(dir, 'ubind');
    fs.mkdirSync(path.join(b, 'sub'), { recursive: true });
    fs.symlinkSync('/etc/passwd', path.join(b, 'link'));
    await ok(['run', '--rm', '--user', '1000:1001', '-v', `${b}:/b:U`, busybox, 'sh', '-c', 'touch /b/sub/f']);
    const want = isRootless() ? undefined : 1000;
    if (want !== undefined) assert.equal(fs.statSync(path.join(b, 'sub')).uid, want);
    // the symlink itself, never what it points to
    assert.equal(fs.statSync('/etc/passwd').uid, 0);
  });

  test('propagation options reach the mount (rprivate by default)', async () => {
    const fields = async (mode: string): Promise<string> => {
      const out = await ok(['run', '--rm', '-v', `${dir}:/p${mode}`, busybox, 'sh', '-c', 'grep " /p " /proc/self/mountinfo']);
      const f = out.trim().split(' ');
      return f.slice(6, f.indexOf('-')).map((x) => x.replace(/:\d+$/, '')).join(',');
    };
    assert.equal(await fields(''), '');
    assert.equal(await fields(':rshared'), 'shared');
    assert.equal(await fields(':private'), '');
  });

  test('--mount type=volume,volume-opt=... creates the volume with those options', async () => {
    const out = await ok(['run', '--rm', '--mount', 'type=volume,src=optv,dst=/t,volume-opt=type=tmpfs,"volume-opt=o=size=2m,mode=0700"', busybox, 'sh', '-c', 'grep " /t " /proc/self/mountinfo']);
    assert.match(out, / - tmpfs tmpfs .*size=2048k/);
    const [v] = JSON.parse(await ok(['volume', 'inspect', 'optv'])) as { Options: Record<string, string> }[];
    assert.deepEqual(v!.Options, { type: 'tmpfs', o: 'size=2m,mode=0700' });
    const bad = await sk(['run', '--rm', '--mount', 'type=bind,src=/tmp,dst=/t,volume-opt=type=tmpfs', busybox, 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: .*cannot mix 'volume-\*' options with mount type 'bind'/);
  });

  test('-v with a missing host directory makes it (0755); --mount type=bind refuses it', async () => {
    const missing = path.join(dir, 'made/on/demand');
    await ok(['run', '--rm', '-v', `${missing}:/m`, busybox, 'sh', '-c', 'echo x > /m/f']);
    const st = fs.statSync(missing);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o755);
    assert.equal(st.uid, process.getuid!());
    const other = path.join(dir, 'never');
    const r = await sk(['run', '--rm', '--mount', `type=bind,src=${other},dst=/m`, busybox, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: invalid mount config for type "bind": bind source path does not exist/);
    assert.ok(!fs.existsSync(other));
  });
});
