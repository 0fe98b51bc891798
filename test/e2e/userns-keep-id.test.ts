/**
 * Podman's `--userns keep-id[:uid=U,gid=G]`: rootless, the invoking user keeps their uid and gid inside
 * the container (or gets U/G), the subordinate ids around them; the image's files keep their owners
 * (the store's copies of the layers for that mapping, made once and removed with the image); a file
 * written to a bind-mounted directory is the user's on the host; Podman's /etc/passwd entry and HOME;
 * cp, commit and export give the owners files have inside.
 * Rootful it is refused with Podman's words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { isRootless, skiff, storeCli, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('run --userns keep-id', () => {
  let store: TempStore;
  let image: string;
  const { sk, ok } = storeCli(() => store);
  const uid = process.getuid!();
  const gid = process.getgid!();

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    await store.cleanup();
  });

  test('rootful: refused as Podman refuses it (exit 125), nothing made', async () => {
    if (isRootless()) return;
    for (const mode of ['keep-id', 'keep-id:uid=5,gid=5']) {
      const r = await sk(['create', '--name', 'kid', '--userns', mode, image]);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, 'Error: keep-id is only supported in rootless mode\n');
      assert.equal((await sk(['inspect', 'kid'])).code, 1, 'a refused create leaves no container');
    }
  });

  test('rootless: the user\'s ids inside, the image\'s owners kept, a bind mount written as the user', { skip: !isRootless() }, async () => {
    const me = os.userInfo();
    const gecos = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((e) => e[2] === String(uid))?.[4] ?? '';
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-keepid-'));
    try {
      const out = await ok(['run', '--rm', '--userns', 'keep-id', '-v', `${src}:/src`, image, 'sh', '-c',
        'id -u; id -g; stat -c "%u:%g" /root /home/app /bin/busybox /etc/passwd; echo "$HOME"; grep "^[^:]*:[^:]*:$(id -u):" /etc/passwd; touch /src/made; mkdir /src/dir']);
      assert.equal(out, [
        String(uid), String(gid), '0:0', '1000:1000', '0:0', '0:0', '/',
        `${me.username}:*:${uid}:${gid}:${gecos}:/:/bin/sh`, '',
      ].join('\n'));
      for (const f of ['made', 'dir']) {
        const st = fs.statSync(path.join(src, f));
        assert.deepEqual([st.uid, st.gid], [uid, gid], f);
      }
      // the home is the user's own where a mount brings it in (Podman's)
      assert.equal(await ok(['run', '--rm', '--userns', 'keep-id', '-v', `${src}:${me.homedir}`, image, 'sh', '-c', 'echo "$HOME"; grep -c ":$HOME:/bin/sh$" /etc/passwd']),
        `${me.homedir}\n1\n`);
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  test('rootless: keep-id:uid=U,gid=G; --user wins; Config.User, UsernsMode; exec, restart, cp, commit and export keep it', { skip: !isRootless() }, async () => {
    const out = await ok(['run', '--rm', '--userns', 'keep-id:uid=200,gid=210', image, 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map']);
    const [u, g, ...map] = out.trim().split('\n');
    assert.deepEqual([u, g], ['200', '210']);
    assert.deepEqual(map.map((l) => l.trim().split(/\s+/)[0]), ['0', '200', '201'], 'the subordinate ids around the user');
    assert.deepEqual(map[1]!.trim().split(/\s+/), ['200', String(uid), '1']);
    // the image's user (app, 1000) keeps its files too
    assert.equal(await ok(['run', '--rm', '--userns', 'keep-id', '-u', 'app', image, 'sh', '-c', 'id -u; touch /home/app/x && stat -c %u /home/app/x']), '1000\n1000\n');
    assert.equal(await ok(['run', '--rm', '--userns', 'keep-id', '-u', '0', image, 'sh', '-c', 'id -u; touch /root/x && stat -c %u:%g /root/x']), '0\n0:0\n');
    await ok(['run', '-d', '--name', 'k1', '--userns', 'keep-id', image, 'sleep', '1000']);
    assert.equal(await ok(['inspect', '-f', '{{.Config.User}} {{.HostConfig.UsernsMode}}', 'k1']), `${uid}:${gid} keep-id\n`);
    assert.equal(await ok(['exec', 'k1', 'id', '-u']), `${uid}\n`);
    // joining its namespaces joins its user namespace: the same --userns only
    const mixed = await sk(['create', '--pid', 'container:k1', '--network', 'container:k1', image]);
    assert.equal(mixed.code, 125);
    assert.equal(mixed.stderr, 'Error: rootless, a container joins the user namespace of k1 with its other namespaces: --userns must be the same as that container\'s ("keep-id")\n');
    assert.equal(await ok(['run', '--rm', '--userns', 'keep-id', '--pid', 'container:k1', '--network', 'container:k1', image, 'sh', '-c', 'id -u; stat -c %u /root']), `${uid}\n0\n`);
    // cp: in, owned by its root (a host file with -a keeps its owner: the user); out as a tar, the ids inside
    const host = path.join(os.tmpdir(), `skiff-keepid-cp-${process.pid}`);
    fs.writeFileSync(host, 'x');
    const tarUid = async (src: string): Promise<number> => parseInt((await ok(['cp', src, '-'])).slice(108, 115), 8);
    try {
      await ok(['cp', host, 'k1:/tmp/plain']);
      await ok(['cp', '-a', host, 'k1:/tmp/arch']);
      assert.equal(await ok(['exec', 'k1', 'stat', '-c', '%u', '/tmp/plain', '/tmp/arch']), `0\n${uid}\n`);
      assert.deepEqual([await tarUid('k1:/tmp/arch'), await tarUid('k1:/root')], [uid, 0]);
      await ok(['stop', '-t', '0', 'k1']);
      // stopped: read from its layers' copies and its upper dir alike
      assert.deepEqual([await tarUid('k1:/tmp/arch'), await tarUid('k1:/root')], [uid, 0]);
      await ok(['cp', host, 'k1:/tmp/stopped']);
    } finally {
      fs.rmSync(host, { force: true });
    }
    await ok(['start', 'k1']);
    assert.equal(await ok(['exec', 'k1', 'stat', '-c', '%u', '/root', '/tmp/stopped']), '0\n0\n');
    // commit: the layer has the owners the files have inside
    await ok(['exec', 'k1', 'sh', '-c', 'touch /tmp/mine && mkdir /tmp/dir']);
    await ok(['commit', 'k1', 'keepid-commit']);
    assert.equal(await ok(['run', '--rm', 'keepid-commit', 'stat', '-c', '%u:%g', '/tmp/mine', '/tmp/dir', '/root']), `${uid}:${gid}\n${uid}:${gid}\n0:0\n`);
    // export too
    const tar = path.join(os.tmpdir(), `skiff-keepid-${process.pid}.tar`);
    try {
      await ok(['export', '-o', tar, 'k1']);
      const list = spawnSync('tar', ['--numeric-owner', '-tvf', tar, 'tmp/mine', 'root/'], { encoding: 'utf8' });
      assert.equal(list.status, 0, list.stderr);
      assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split(/\s+/)[1]).sort(), ['0/0', `${uid}/${gid}`]);
    } finally {
      fs.rmSync(tar, { force: true });
    }
    await ok(['rm', '-f', 'k1']);
    await ok(['rmi', 'keepid-commit']);
  });

  test('rootless: a many-layer image seen alike (owners, modes, links, whiteouts, opaque dirs, file capabilities)', { skip: !isRootless() }, async () => {
    const ml = await storeWithImage('multilayer');
    try {
      const look = 'ln -s /data/capbin /tmp/grep; /tmp/grep CapEff /proc/self/status; id -u; ls /data/opaque; ' +
        'find /data /root /home /etc/group | sort | xargs stat -c "%n %u:%g %a %h %F"';
      const run = async (args: string[]): Promise<string> => {
        const r = await skiff(['run', '--rm', ...args, ml.image, 'sh', '-c', look], { store: ml.store });
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      const standard = await run(['-u', `${uid}:${gid}`]);
      assert.match(standard, /^CapEff:\t0+400\n/, 'the fixture\'s capbin has cap_net_bind_service');
      assert.equal(await run(['--userns', 'keep-id']), standard);
    } finally {
      await ml.store.cleanup();
    }
  });

  test('rootless: bad options are one error line (exit 125); the layer copies go with the image', { skip: !isRootless() }, async () => {
    for (const [mode, msg] of [
      ['keep-id:uid=x', '--userns keep-id: invalid option "uid=x" (uid=UID, gid=GID)'],
      ['keep-id:size=3', '--userns keep-id: invalid option "size=3" (uid=UID, gid=GID)'],
      ['keep-id:uid=99999999', /^--userns keep-id: uid 99999999 is outside the \d+ ids of the user namespace$/],
    ] as const) {
      const r = await sk(['create', '--name', 'bad', '--userns', mode, image]);
      assert.equal(r.code, 125, mode);
      if (typeof msg === 'string') assert.equal(r.stderr, `Error: ${msg}\n`);
      else assert.match(r.stderr.replace(/^Error: (.*)\n$/, '$1'), msg);
      assert.equal((await sk(['inspect', 'bad'])).code, 1);
    }
    // the copies for a mapping live with their layer and leave with it
    const layers = path.join(store.root, 'layers');
    const mapped = (): string[] => fs.readdirSync(layers).filter((d) => fs.existsSync(path.join(layers, d, 'mapped')));
    assert.ok(mapped().length > 0, 'keep-id runs above made layer copies');
    await ok(['rmi', image]);
    assert.deepEqual(mapped(), []);
    const dangling = fs.readdirSync(path.join(layers, 'l')).filter((l) => !fs.existsSync(path.join(layers, 'l', l)));
    assert.deepEqual(dangling, [], 'no short link left without its copy');
  });
});
