/**
 * `cp` through the CLI, rootful and rootless: both directions on created, stopped and running
 * containers (into the running one's tmpfs and volume mounts), Docker's path rules (`/.`, existing
 * vs new destinations, a directory onto a file), tar streams (`-`) both ways, `-a` owners, `-L`,
 * modes, mtimes and symlinks kept; symlinks in the container that point at `/`, up with `..` or at a
 * host path never lead a copy out of its root; errors and exit codes; podman's copy of the same
 * image tree compared (rootful).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, isRootless, skiff, SKIFF_BIN, storeWithImage, type RunResult, type TempStore } from '../helpers/fixtures.js';
import { podmanSkip } from '../helpers/podman.js';
import { readTar } from '../helpers/rawtar.js';
import { treeSnapshot } from '../helpers/tree.js';

describe('cp', () => {
  let store: TempStore;
  let image: string;
  let ml: string;
  let dir: string;
  const sk = (args: string[], input?: string): Promise<RunResult> => skiff(args, { store, ...(input !== undefined ? { input } : {}) });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await sk(args, input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const fails = async (args: string[], code: number, message: RegExp): Promise<void> => {
    const r = await sk(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };
  /** A tree on the host: files of two modes, a subdirectory, a relative and an absolute symlink. */
  const makeTree = (root: string): void => {
    fs.mkdirSync(path.join(root, 'sub/deeper'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(root, 'sub/run.sh'), '#!/bin/sh\necho hi\n');
    fs.chmodSync(path.join(root, 'sub/run.sh'), 0o751);
    fs.writeFileSync(path.join(root, 'sub/deeper/z'), 'zeta');
    fs.chmodSync(path.join(root, 'sub/deeper'), 0o701);
    fs.symlinkSync('../a.txt', path.join(root, 'sub/rel-link'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs-link'));
    fs.utimesSync(path.join(root, 'a.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  };
  /** A snapshot without owners (they are checked on their own). */
  const shape = (root: string): string[] => treeSnapshot(root).map((l) => l.replace(/ \d+:\d+ /, ' '));

  before(async () => {
    ({ store, image } = await storeWithImage());
    ml = fixtures().images.multilayer.ref;
    await ok(['pull', '-q', ml]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cp-'));
    fs.chmodSync(dir, 0o755);
    makeTree(path.join(dir, 'tree'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  test('a created container: in and out again, Docker\'s path rules, modes, mtimes, links; owners root\'s unless -a', async () => {
    await ok(['create', '--name', 'c1', image, 'sh', '-c', 'stat -c "%n %u:%g %a" /new /new/sub/run.sh /etc/hosts.copy /kept/a.txt']);
    // a directory to a new path: the path becomes the directory
    await ok(['cp', path.join(dir, 'tree'), 'c1:/new']);
    // a file into an existing directory keeps its name; to a new path takes that name
    await ok(['cp', path.join(dir, 'tree/a.txt'), 'c1:/etc']);
    await ok(['cp', path.join(dir, 'tree/a.txt'), 'c1:/etc/hosts.copy']);
    // a directory into an existing one goes below it; with `/.` only its contents
    await ok(['cp', path.join(dir, 'tree'), 'c1:/tmp']);
    await ok(['cp', `${path.join(dir, 'tree')}/.`, 'c1:/root']);
    // -a keeps the host owners (the caller's ids: rootless, the container's root)
    await ok(['cp', '-a', path.join(dir, 'tree'), 'c1:/kept']);

    const out = path.join(dir, 'out1');
    fs.mkdirSync(out);
    await ok(['cp', 'c1:/new', path.join(out, 'new')]);
    assert.deepEqual(shape(path.join(out, 'new')), shape(path.join(dir, 'tree')));
    assert.equal(fs.statSync(path.join(out, 'new/a.txt')).mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    await ok(['cp', 'c1:/tmp/tree', path.join(out, 'tmp-tree')]);
    assert.deepEqual(shape(path.join(out, 'tmp-tree')), shape(path.join(dir, 'tree')));
    await ok(['cp', 'c1:/root/.', path.join(out, 'root')]);
    assert.deepEqual(shape(path.join(out, 'root')), shape(path.join(dir, 'tree')));
    await ok(['cp', 'c1:/etc/a.txt', out]);
    assert.equal(fs.readFileSync(path.join(out, 'a.txt'), 'utf8'), 'alpha\n');
    // out of the container, files are the caller's
    const me = `${process.getuid!()}:${process.getgid!()}`;
    assert.equal(`${fs.statSync(path.join(out, 'new/sub/run.sh')).uid}:${fs.statSync(path.join(out, 'new/sub/run.sh')).gid}`, me);
    // a symlink is copied as the link; -L copies what it points to (inside the container)
    await ok(['cp', 'c1:/new/sub/rel-link', path.join(out, 'link')]);
    assert.equal(fs.readlinkSync(path.join(out, 'link')), '../a.txt');
    await ok(['cp', '-L', 'c1:/new/sub/rel-link', path.join(out, 'followed')]);
    assert.equal(fs.readFileSync(path.join(out, 'followed'), 'utf8'), 'alpha\n');
    // the absolute link /new/abs-link resolves to the container's /etc/passwd, never the host's
    await ok(['cp', '-L', 'c1:/new/abs-link', path.join(out, 'passwd')]);
    assert.equal(fs.readFileSync(path.join(out, 'passwd'), 'utf8'), await ok(['run', '--rm', image, 'cat', '/etc/passwd']));

    // inside: owners 0:0 without -a, the source's with it; modes kept
    const r = await ok(['start', '-a', 'c1']);
    const lines = r.trim().split('\n');
    const ids = isRootless() ? '0:0' : me; // rootless, the caller is the container's root
    assert.deepEqual(lines, ['/new 0:0 755', '/new/sub/run.sh 0:0 751', '/etc/hosts.copy 0:0 644', `/kept/a.txt ${ids} 644`]);
    // a stopped container: out again after it ran, from its upper directory over the image
    await ok(['cp', 'c1:/new/sub/deeper', path.join(out, 'deeper-after')]);
    assert.equal(fs.readFileSync(path.join(out, 'deeper-after/z'), 'utf8'), 'zeta');
    assert.equal(fs.statSync(path.join(out, 'deeper-after')).mode & 0o7777, 0o701);
  });

  test('a stopped container: writes copy the image\'s parents up, replace what was deleted, and show when it runs again', async () => {
    const cmd = 'if grep -q alpha /etc/group; then ls -A /data/sub /data/sub/deeper; cat /etc/group; stat -c "%a %u:%g" /data/private-dir /data/private-dir/x; else rm -rf /data/sub /etc/group; fi';
    await ok(['run', '--name', 'c2', '--user', '0', ml, 'sh', '-c', cmd]);
    // a directory where a deleted one was (a whiteout in the upper dir): nothing of the deleted one comes back
    await ok(['cp', path.join(dir, 'tree/sub'), 'c2:/data/sub']);
    // a file where a deleted one was
    await ok(['cp', path.join(dir, 'tree/a.txt'), 'c2:/etc/group']);
    // a path whose parent is only in the image: copied up as it is there (700, 1000:1000)
    await ok(['cp', path.join(dir, 'tree/sub/deeper/z'), 'c2:/data/private-dir/x']);
    const out = path.join(dir, 'out2');
    fs.mkdirSync(out);
    await ok(['cp', 'c2:/data/sub', path.join(out, 'sub')]);
    assert.deepEqual(shape(path.join(out, 'sub')), shape(path.join(dir, 'tree/sub')));
    await ok(['cp', 'c2:/etc/group', path.join(out, 'group')]);
    assert.equal(fs.readFileSync(path.join(out, 'group'), 'utf8'), 'alpha\n');
    // the container sees the same when it runs again
    assert.equal(await ok(['start', '-a', 'c2']), '/data/sub:\ndeeper\nrel-link\nrun.sh\n\n/data/sub/deeper:\nz\nalpha\n700 1000:1000\n644 0:0\n');
  });

  test('a running container: into and out of its root, its tmpfs and its volume', async () => {
    await ok(['run', '-d', '--name', 'r1', '--tmpfs', '/scratch', '-v', 'cpvol:/vol', image, 'sleep', '1000']);
    try {
      await ok(['cp', path.join(dir, 'tree'), 'r1:/scratch/t']);
      await ok(['cp', path.join(dir, 'tree/a.txt'), 'r1:/vol/']);
      await ok(['cp', path.join(dir, 'tree/sub/run.sh'), 'r1:/run.sh']);
      assert.equal(await ok(['exec', 'r1', 'sh', '-c', 'cat /scratch/t/a.txt /vol/a.txt; /run.sh; stat -c "%a %u:%g" /scratch/t/sub/run.sh']), 'alpha\nalpha\nhi\n751 0:0\n');
      await ok(['exec', 'r1', 'sh', '-c', 'echo made-inside > /scratch/inside; echo in-vol > /vol/v']);
      const out = path.join(dir, 'out3');
      fs.mkdirSync(out);
      await ok(['cp', 'r1:/scratch/.', out]);
      assert.deepEqual(fs.readdirSync(out).sort(), ['inside', 't']);
      assert.deepEqual(shape(path.join(out, 't')), shape(path.join(dir, 'tree')));
      await ok(['cp', 'r1:/vol/v', path.join(out, 'v')]);
      assert.equal(fs.readFileSync(path.join(out, 'v'), 'utf8'), 'in-vol\n');
      // the container keeps running (it was frozen only during the copy in)
      assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', 'r1']), 'running\n');
    } finally {
      await sk(['rm', '-f', 'r1']);
    }
    // stopped: the volume is still reached through the container's mount
    await ok(['create', '--name', 'r2', '-v', 'cpvol:/data', image]);
    const out = path.join(dir, 'out3b');
    await ok(['cp', 'r2:/data', out]);
    assert.deepEqual(fs.readdirSync(out).sort(), ['a.txt', 'v']);
    await ok(['cp', path.join(dir, 'tree/sub/deeper/z'), 'r2:/data/z']);
    assert.equal(await ok(['run', '--rm', '-v', 'cpvol:/x', image, 'cat', '/x/z']), 'zeta');
  });

  for (const running of [false, true]) {
    test(`symlinks never lead out of the root (${running ? 'running' : 'stopped'} container)`, async () => {
      const host = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cp-target-'));
      fs.chmodSync(host, 0o777);
      fs.writeFileSync(path.join(host, 'secret'), 'host secret\n');
      const name = running ? 'esc-run' : 'esc-stop';
      const links = `ln -s / /to-root; ln -s ../../../../.. /up; ln -s ${host} /hostdir; ln -s ${host}/secret /hostfile; mkdir -p /d; ln -s /etc/../../.. /d/deep; mkdir -p ${host}`;
      if (running) await ok(['run', '-d', '--name', name, image, 'sh', '-c', `${links}; sleep 1000`]);
      else await ok(['run', '--name', name, image, 'sh', '-c', links]);
      try {
        if (running) await ok(['exec', name, 'sh', '-c', `until [ -L /d/deep ]; do sleep 0.05; done`]);
        const marker = `skiff-cp-escape-${process.pid}-${running ? 'r' : 's'}`;
        const src = path.join(dir, marker);
        fs.writeFileSync(src, 'payload\n');
        // out: the links read the container's files, never the host's
        const out = path.join(dir, `out-${name}`);
        fs.mkdirSync(out);
        await fails(['cp', `${name}:/hostdir/secret`, out], 1, /^Error: Could not find the file \/hostdir\/secret in container esc-/);
        await fails(['cp', '-L', `${name}:/hostfile`, out], 1, /^Error: Could not find the file \/hostfile in container esc-/);
        for (const dest of ['/to-root/', '/up/', '/d/deep/', '/to-root/tmp/', `/hostdir/`]) await ok(['cp', src, `${name}:${dest}`]);
        await ok(['cp', src, `${name}:/hostfile`]); // replaces the container's path, never the host file
        // a tar with a path climbing out is refused, and one with a link then a file through it writes inside
        const tarDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cp-tar-'));
        fs.symlinkSync('/', path.join(tarDir, 'lnk'));
        const tar = spawnSync('tar', ['-C', tarDir, '-cf', '-', 'lnk'], { maxBuffer: 1 << 24 });
        const streamed = spawnSync(SKIFF_BIN, ['cp', '-', `${name}:/tmp`], { input: tar.stdout, env: { ...process.env, ...store.env } });
        assert.equal(streamed.status, 0, String(streamed.stderr));
        fs.rmSync(tarDir, { recursive: true });
        await ok(['cp', src, `${name}:/tmp/lnk/`]);

        for (const p of ['/', '/tmp', os.tmpdir(), host, path.dirname(store.root)]) assert.ok(!fs.existsSync(path.join(p, marker)), `${p}/${marker} was written on the host`);
        assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret\n');
        // the copies landed inside: the link's target in the container's root
        await ok(['cp', '-L', `${name}:/hostfile`, path.join(out, 'hf')]);
        assert.equal(fs.readFileSync(path.join(out, 'hf'), 'utf8'), 'payload\n');
        for (const p of [`/${marker}`, `/tmp/${marker}`, `${host}/${marker}`]) {
          await ok(['cp', `${name}:${p}`, path.join(out, 'got')]);
          assert.equal(fs.readFileSync(path.join(out, 'got'), 'utf8'), 'payload\n');
          fs.rmSync(path.join(out, 'got'));
        }
        if (running) assert.equal(await ok(['exec', name, 'sh', '-c', `cat /${marker} /tmp/${marker} ${host}/${marker} /hostfile; ls /tmp`]), `payload\npayload\npayload\npayload\nlnk\n${marker}\n${path.basename(host)}\n`);
      } finally {
        await sk(['rm', '-f', name]);
        fs.rmSync(host, { recursive: true, force: true });
      }
    });
  }

  test('tar streams: out as one entry with what is below it, in unpacked into a directory', async () => {
    await ok(['create', '--name', 'c3', image, 'stat', '-c', '%n %u:%g %a', '/root/a.txt', '/root/sub/run.sh', '/tmp/a.txt']);
    await ok(['cp', path.join(dir, 'tree'), 'c3:/t']);
    const env = { ...process.env, ...store.env };
    // owners from the archive with -a, the container's root without
    const owned = spawnSync('tar', ['-C', path.join(dir, 'tree'), '--owner=1234', '--group=2345', '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 1 << 24 });
    for (const [args, dest] of [[['-a'], '/root'], [[], '/tmp']] as const) {
      const r = spawnSync(SKIFF_BIN, ['cp', ...args, '-', `c3:${dest}`], { env, input: owned.stdout, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.equal(await ok(['start', '-a', 'c3']), '/root/a.txt 1234:2345 644\n/root/sub/run.sh 1234:2345 751\n/tmp/a.txt 0:0 644\n');
    if (!isRootless()) {
      // -a out: the container's owners on the host
      await ok(['cp', '-a', 'c3:/root/sub', path.join(dir, 'owned')]);
      assert.equal(`${fs.statSync(path.join(dir, 'owned/run.sh')).uid}:${fs.statSync(path.join(dir, 'owned/run.sh')).gid}`, '1234:2345');
    }
    const out = spawnSync(SKIFF_BIN, ['cp', 'c3:/t', '-'], { env, maxBuffer: 1 << 26 });
    assert.equal(out.status, 0, String(out.stderr));
    const list = spawnSync('tar', ['-tvf', '-'], { input: out.stdout, encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const names = list.stdout.trim().split('\n').map((l) => l.split(/ +/).slice(5).join(' ')).sort();
    assert.deepEqual(names, ['t/', 't/a.txt', 't/abs-link -> /etc/passwd', 't/sub/', 't/sub/deeper/', 't/sub/deeper/z', 't/sub/rel-link -> ../a.txt', 't/sub/run.sh']);
    // and back in, as a tar, into an existing directory
    const back = spawnSync(SKIFF_BIN, ['cp', '-', 'c3:/etc'], { env, input: out.stdout });
    assert.equal(back.status, 0, String(back.stderr));
    const got = path.join(dir, 'out4');
    await ok(['cp', 'c3:/etc/t', got]);
    assert.deepEqual(shape(got), shape(path.join(dir, 'tree')));
    // into a file or a missing directory: refused
    const toFile = spawnSync(SKIFF_BIN, ['cp', '-', 'c3:/etc/passwd'], { env, input: out.stdout, encoding: 'utf8' });
    assert.equal(toFile.status, 1);
    assert.match(toFile.stderr, /^Error: cannot copy an archive to a file: "\/etc\/passwd" is not a directory\n$/);
  });

  test('errors: Docker\'s words and exit codes, nothing changed', async () => {
    await ok(['create', '--name', 'c4', image]);
    await fails(['cp', 'nosuch:/etc/passwd', dir], 1, /^Error: No such container: nosuch$/);
    await fails(['cp', path.join(dir, 'tree/a.txt'), 'nosuch:/tmp'], 1, /^Error: No such container: nosuch$/);
    await fails(['cp', 'c4:/no/such', dir], 1, /^Error: Could not find the file \/no\/such in container c4$/);
    await fails(['cp', path.join(dir, 'nope'), 'c4:/tmp'], 1, /^Error: lstat .*nope: no such file or directory$/);
    await fails(['cp', path.join(dir, 'tree/a.txt'), 'c4:/no/such/file'], 1, /^Error: Could not find the file \/no\/such in container c4$/);
    await fails(['cp', path.join(dir, 'tree/a.txt'), 'c4:/newdir/'], 1, /^Error: Could not find the file \/newdir\/ in container c4$/);
    await fails(['cp', path.join(dir, 'tree'), 'c4:/etc/passwd'], 1, /^Error: cannot copy a directory to a file: "\/etc\/passwd" is not a directory$/);
    await fails(['cp', 'c4:/etc', path.join(dir, 'tree/a.txt')], 1, /^Error: cannot copy a directory to a file: ".*a.txt" exists and is not a directory$/);
    await fails(['cp', 'c4:/etc/passwd/', dir], 1, /^Error: "\/etc\/passwd\/": not a directory$/);
    await fails(['cp', dir, path.join(dir, 'x')], 1, /^Error: must specify at least one container source$/);
    await fails(['cp', 'c4:/etc', 'c4:/tmp'], 1, /^Error: copying between containers is not supported$/);
    await ok(['create', '--name', 'ro', '--read-only', image]);
    await fails(['cp', path.join(dir, 'tree/a.txt'), 'ro:/tmp'], 1, /^Error: container rootfs is marked read-only$/);
    // container exists (Podman's)
    assert.deepEqual(await sk(['container', 'exists', 'c4']).then((r) => [r.code, r.stdout, r.stderr]), [0, '', '']);
    assert.deepEqual(await sk(['container', 'exists', 'nosuch']).then((r) => [r.code, r.stdout, r.stderr]), [1, '', '']);
  });

  test('diff: A/C/D from the upper dir, whiteouts and what an opaque dir hides as D', async () => {
    await ok(['create', '--name', 'df0', ml]);
    assert.equal(await ok(['diff', 'df0']), '');
    const cmd = 'echo x > /etc/new; rm /etc/group; echo y >> /etc/passwd; mkdir /tmp/d; rm -rf /data/sub; mkdir /data/sub; touch /data/sub/n';
    await ok(['run', '--name', 'df1', '--user', '0', ml, 'sh', '-c', cmd]);
    const got = (await ok(['diff', 'df1'])).split('\n').filter(Boolean);
    const want = ['C /data', 'C /data/sub', 'D /data/sub/deeper', 'A /data/sub/n', 'C /etc', 'D /etc/group', 'A /etc/new', 'C /etc/passwd', 'C /tmp', 'A /tmp/d'];
    // what the runtime made for its mounts (mount points) may be listed as well; what the command did must be, in this order
    assert.deepEqual(got.filter((l) => want.includes(l)), want, got.join('\n'));
    for (const l of got) assert.match(l, /^[ACD] \//);
    await fails(['diff', 'nosuch'], 1, /^Error: No such container: nosuch$/);
  });

  test('export and import: the container\'s filesystem round trip, -c changes, -m, stdin', async () => {
    await ok(['run', '--name', 'ex1', '--user', '0', ml, 'sh', '-c', 'echo hi > /new; rm /etc/group']);
    const file = path.join(dir, 'ex1.tar');
    assert.equal(await ok(['export', '-o', file, 'ex1']), '');
    const list = spawnSync('tar', ['-tvf', file], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const names = list.stdout.split('\n').filter(Boolean).map((l) => l.split(/ +/).slice(5).join(' '));
    assert.ok(names.includes('new') && names.includes('data/suid') && names.includes('bin/busybox'), names.join('\n'));
    assert.ok(!names.includes('etc/group'), 'a deleted file is exported');
    const id = (await ok(['import', '-c', 'CMD ["cat", "/new"]', '-c', 'ENV A=b', '-m', 'round trip', file, 'imported:1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await ok(['run', '--rm', 'imported:1']), 'hi\n');
    assert.equal(await ok(['image', 'inspect', '-f', '{{json .Config.Env}} {{.Id}}', 'imported:1']), `["A=b"] ${id}\n`);
    assert.match(await ok(['history', '--no-trunc', '--format', '{{.Comment}}', 'imported:1']), /^round trip$/m);
    // owners, modes and special bits as the container had them
    const stat = ['stat', '-c', '%n %a %u:%g', '/data/suid', '/data/sgid', '/data/owned', '/data/private-dir', '/data/sticky', '/data/hard1'];
    assert.equal(await ok(['run', '--rm', '--user', '0', 'imported:1', ...stat]), await ok(['run', '--rm', '--user', '0', ml, ...stat]));
    assert.equal(await ok(['run', '--rm', 'imported:1', 'readlink', '/data/rel-link']), await ok(['run', '--rm', ml, 'readlink', '/data/rel-link']));
    assert.equal((await sk(['run', '--rm', 'imported:1', 'ls', '/etc/group'])).code, 1);
    // stdout and stdin: export | import -
    const env = { ...process.env, ...store.env };
    const tar = spawnSync(SKIFF_BIN, ['export', 'ex1'], { env, maxBuffer: 1 << 28 });
    assert.equal(tar.status, 0, String(tar.stderr));
    const piped = spawnSync(SKIFF_BIN, ['import', '-', 'piped'], { env, input: tar.stdout, encoding: 'utf8' });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(await ok(['run', '--rm', 'piped', 'cat', '/new']), 'hi\n');
    await fails(['import', path.join(dir, 'nope.tar')], 1, /^Error: open .*nope\.tar: no such file or directory$/);
    await fails(['export', '-o', path.join(dir, 'x.tar'), 'nosuch'], 1, /^Error: No such container: nosuch$/);
    assert.ok(!fs.existsSync(path.join(dir, 'x.tar')));
    await fails(['import', '-c', 'RUN true', file], 125, /^Error: RUN is not a valid change command$/);
  });

  test('device nodes and fifos: copied both ways and in tar streams as the archive carries them; out on the host a device is root\'s alone', async () => {
    const rootful = !isRootless();
    // rootless, mknod of a device is refused in a user namespace (Docker's rootless archive skips them too)
    const mkdev = rootful ? ' && mknod -m 0666 /sp/cdev c 1 3 && chown 5:6 /sp/cdev' : '';
    await ok(['run', '--name', 'cp-sp', '--user', '0', ...(rootful ? ['--cap-add', 'MKNOD'] : []), image, 'sh', '-c', `mkdir /sp && mkfifo -m 0640 /sp/f && chown 1000:1001 /sp/f${mkdev}`]);
    const env = { ...process.env, ...store.env };
    // out, as a tar: the entries as they are
    const out = spawnSync(SKIFF_BIN, ['cp', 'cp-sp:/sp', '-'], { env, maxBuffer: 1 << 24 });
    assert.equal(out.status, 0, String(out.stderr));
    const entries = new Map(readTar(out.stdout).map((e) => [e.name, e]));
    const f = entries.get('sp/f');
    assert.deepEqual(f && [f.type, f.mode, f.uid, f.gid], ['6', 0o640, 1000, 1001]);
    const c = entries.get('sp/cdev');
    if (rootful) assert.deepEqual(c && [c.type, c.devmajor, c.devminor, c.mode, c.uid, c.gid], ['3', 1, 3, 0o666, 5, 6]);
    // out to the host: the fifo as it is (owners: the caller's, -a the container's); a device node root's, 0600
    const me = `${process.getuid!()}:${process.getgid!()}`;
    const owner = (p: string): string => `${fs.lstatSync(p).uid}:${fs.lstatSync(p).gid}`;
    for (const a of [[], ['-a']]) {
      const to = path.join(dir, `sp-out${a.length}`);
      await ok(['cp', ...a, 'cp-sp:/sp', to]);
      const st = fs.lstatSync(path.join(to, 'f'));
      assert.ok(st.isFIFO());
      assert.equal(st.mode & 0o7777, 0o640);
      if (rootful) {
        assert.equal(owner(path.join(to, 'f')), a.length ? '1000:1001' : me);
        const d = fs.lstatSync(path.join(to, 'cdev'));
        assert.ok(d.isCharacterDevice());
        assert.deepEqual([d.rdev, d.mode & 0o7777, d.uid, d.gid], [fs.statSync('/dev/null').rdev, 0o600, 0, 0]);
      } else assert.deepEqual(fs.readdirSync(to), ['f']);
    }
    // in, from the host and as a tar (python's tarfile writes a device without making one; PAX, as Docker's Go writer)
    const tar = spawnSync('python3', ['-c', [
      'import io, sys, tarfile',
      'b = io.BytesIO(); t = tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT)',
      'for name, kind, mode in (("p", tarfile.FIFOTYPE, 0o604), ("z", tarfile.CHRTYPE, 0o644)):',
      '    i = tarfile.TarInfo(name); i.type = kind; i.mode = mode; i.uid = 7; i.gid = 8; i.devmajor, i.devminor = (1, 5) if kind == tarfile.CHRTYPE else (0, 0); t.addfile(i)',
      't.close(); sys.stdout.buffer.write(b.getvalue())',
    ].join('\n')], { maxBuffer: 1 << 20 });
    assert.equal(tar.status, 0, String(tar.stderr));
    await ok(['create', '--name', 'cp-sp2', '--user', '0', image, 'sh', '-c', 'cd /in && stat -c "%n %F %t:%T %a %u:%g" * | sort']);
    await ok(['cp', path.join(dir, 'sp-out0'), 'cp-sp2:/in']);
    const r = spawnSync(SKIFF_BIN, ['cp', '-a', '-', 'cp-sp2:/in'], { env, input: tar.stdout, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const dev = rootful ? ['cdev character special file 1:3 600 0:0'] : [];
    const tarDev = rootful ? ['z character special file 1:5 644 7:8'] : [];
    assert.equal(await ok(['start', '-a', 'cp-sp2']), [...dev, 'f fifo 0:0 640 0:0', 'p fifo 0:0 604 7:8', ...tarDev].sort().join('\n') + '\n');
    await ok(['rm', 'cp-sp', 'cp-sp2']);
  });

  test('export: device nodes, fifos and xattrs as docker export writes them, and back through import', async () => {
    await ok(['run', '--name', 'ex-special', '--user', '0', ml, 'sh', '-c', 'mkfifo -m 0620 /fifo && chown 1000:1001 /fifo && echo x > /tagged']);
    const upper = path.join(store.root, 'containers', (await ok(['inspect', '-f', '{{.Id}}', 'ex-special'])).trim(), 'upper');
    // a user.* xattr set on the container's upper layer from the host (busybox has no setfattr)
    const set = spawnSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.mine", b"v\\x00\\xff", follow_symlinks=False)', path.join(upper, 'tagged')], { encoding: 'utf8' });
    assert.equal(set.status, 0, set.stderr);
    // device nodes, made from the host (rootless, mknod of a device is refused in a user namespace, as for Docker's and Podman's rootless containers)
    if (!isRootless()) {
      for (const [name, ...spec] of [['cdev', 'c', '1', '3'], ['bdev', 'b', '7', '300']]) {
        const mk = spawnSync('mknod', [path.join(upper, name!), ...spec], { encoding: 'utf8' });
        assert.equal(mk.status, 0, mk.stderr);
      }
      fs.lchownSync(path.join(upper, 'cdev'), 5, 6);
    }
    const env = { ...process.env, ...store.env };
    const check = (tar: Buffer): void => {
      const byName = new Map(readTar(tar).map((e) => [e.name, e]));
      const fifo = byName.get('fifo');
      assert.deepEqual(fifo && [fifo.type, fifo.mode, fifo.uid, fifo.gid], ['6', 0o620, 1000, 1001]);
      if (!isRootless()) {
        const c = byName.get('cdev');
        assert.deepEqual(c && [c.type, c.devmajor, c.devminor, c.uid, c.gid], ['3', 1, 3, 5, 6]);
        const b = byName.get('bdev');
        assert.deepEqual(b && [b.type, b.devmajor, b.devminor], ['4', 7, 300]);
      }
      assert.deepEqual(byName.get('tagged')?.xattrs, { 'user.mine': Buffer.from([0x76, 0, 0xff]) });
      // from the image's layers: a user.* xattr and file capabilities (security.capability), owners as the container sees them
      assert.deepEqual(byName.get('data/xattr-file')?.xattrs, { 'user.skiff': Buffer.from('1') });
      assert.ok(byName.get('data/capbin')?.xattrs['security.capability']?.length, 'file capabilities exported');
      assert.ok(!Object.keys(byName.get('data')?.xattrs ?? {}).some((k) => k.includes('overlay')), 'overlay xattrs are not content');
    };
    const tar = spawnSync(SKIFF_BIN, ['export', 'ex-special'], { env, maxBuffer: 1 << 28 });
    assert.equal(tar.status, 0, String(tar.stderr));
    check(tar.stdout);
    const list = spawnSync('tar', ['-tvf', '-'], { input: tar.stdout, encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^p.* fifo$/m);
    if (!isRootless()) assert.match(list.stdout, /^c.* 1,3 .* cdev$/m);
    // export | import | export: the same entries
    const imp = spawnSync(SKIFF_BIN, ['import', '-', 'special:1'], { env, input: tar.stdout, encoding: 'utf8' });
    assert.equal(imp.status, 0, imp.stderr);
    await ok(['create', '--name', 'ex-special2', 'special:1', 'true']);
    const again = spawnSync(SKIFF_BIN, ['export', 'ex-special2'], { env, maxBuffer: 1 << 28 });
    assert.equal(again.status, 0, String(again.stderr));
    check(again.stdout);
    assert.equal(await ok(['run', '--rm', '--user', '0', 'special:1', 'stat', '-c', '%F %u:%g', '/fifo']), 'fifo 1000:1001\n');
  });

  test('the same files out of the same image as podman', { skip: podmanSkip }, async () => {
    const run = (args: string[]): ReturnType<typeof spawnSync> => spawnSync('podman', args, { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run(['pull', '-q', '--tls-verify=false', ml]).status, 0);
    const p = run(['create', ml]);
    assert.equal(p.status, 0, String(p.stderr));
    const id = String(p.stdout).trim();
    try {
      await ok(['create', '--name', 'peer', ml]);
      // podman follows a symlink source by default; Docker (and skiff) copy the link unless -L
      for (const [flags, src] of [[[], '/data'], [[], '/data/.'], [['-L'], '/bin/sh'], [[], '/data/sub/deeper/file']] as const) {
        const mine = path.join(dir, `peer-skiff${src.replace(/[/.]/g, '_')}`);
        const theirs = path.join(dir, `peer-podman${src.replace(/[/.]/g, '_')}`);
        await ok(['cp', ...flags, `peer:${src}`, mine]);
        const c = run(['cp', `${id}:${src}`, theirs]);
        assert.equal(c.status, 0, String(c.stderr));
        const [a, b] = [fs.lstatSync(mine), fs.lstatSync(theirs)];
        assert.equal(a.mode, b.mode, src);
        if (a.isDirectory()) assert.deepEqual(shape(mine), shape(theirs));
        else if (a.isSymbolicLink()) assert.equal(fs.readlinkSync(mine), fs.readlinkSync(theirs));
        else assert.deepEqual(fs.readFileSync(mine), fs.readFileSync(theirs));
      }
    } finally {
      run(['rm', '-f', id]);
    }
  });
});
