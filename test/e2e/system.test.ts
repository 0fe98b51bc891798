/**
 * `info`, `system df`, `system prune`, `builder prune`, `ps -s`/`inspect --size` and an OOM kill through
 * the CLI: Docker's fields and numbers matching what the test made; prune never takes what a running
 * container uses or (without -a) a tagged image; the prompt reads stdin. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { humanSize as human } from '../../src/lib/units.js';
import { fixtures, isRootless, storeCli, storeWithImage, type TempStore } from '../helpers/fixtures.js';

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('info, system df/prune, sizes, OOM', () => {
  let store: TempStore;
  let image: string;
  const { sk, ok } = storeCli(() => store);
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok(args)) as T;
  const ids = async (...args: string[]): Promise<string[]> => lines(await ok(['ps', '-aq', '--no-trunc', ...args]));
  type Df = { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string };
  const df = async (): Promise<Record<string, Df>> =>
    Object.fromEntries(lines(await ok(['system', 'df', '--format', '{{json .}}'])).map((l) => JSON.parse(l) as Df).map((d) => [d.Type, d]));

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    await store.cleanup();
  });

  test('info: Docker\'s fields, counts of what exists, --format, system info', async () => {
    await ok(['create', '--name', 'info-stopped', image, 'true']);
    await ok(['run', '-d', '--name', 'info-running', image, 'sleep', '300']);
    try {
      type Info = Record<string, unknown> & { SecurityOptions: string[]; DriverStatus: string[][]; ClientInfo: { Context: string } };
      const i = await json<Info>(['info', '--format', '{{json .}}']);
      for (const k of ['ID', 'Driver', 'DockerRootDir', 'CgroupDriver', 'CgroupVersion', 'KernelVersion', 'OperatingSystem', 'OSType', 'Architecture', 'Name', 'ServerVersion', 'Runtimes']) {
        assert.ok(k in i, `info has ${k}`);
      }
      assert.deepEqual([i.Containers, i.ContainersRunning, i.ContainersPaused, i.ContainersStopped, i.Images], [2, 1, 0, 1, 1]);
      assert.equal(i.DockerRootDir, store.root);
      assert.equal(i.NCPU, os.cpus().length);
      assert.equal(i.MemTotal, os.totalmem());
      assert.equal(i.KernelVersion, os.release());
      assert.equal(i.OSType, 'linux');
      assert.equal(i.Driver, 'overlay');
      assert.match(String(i.ID), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(i.SecurityOptions.includes('name=rootless'), isRootless());
      assert.equal(i.ClientInfo.Context, 'default');
      const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
      assert.equal(await ok(['system', 'info', '--format', '{{.CgroupVersion}} {{.ID}}']), `${v2 ? '2' : '1'} ${String(i.ID)}\n`);
      const text = await ok(['info']);
      assert.match(text, /^Server:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n/m);
      assert.match(text, new RegExp(`^ Docker Root Dir: ${store.root}$`, 'm'));
      const bad = await sk(['info', '--format', '{{.NoSuchField}}']);
      assert.equal(bad.code, 125);
      assert.equal(lines(bad.stderr).length, 1);
    } finally {
      await ok(['rm', '-f', 'info-stopped', 'info-running']);
    }
  });

  test('system df, ps -s, inspect --size: the numbers of what was made', async () => {
    await ok(['volume', 'create', 'df-vol']);
    await ok(['run', '--name', 'df-a', '-v', 'df-vol:/data', image, 'sh', '-c', 'head -c 100000 /dev/zero > /f; head -c 50000 /dev/zero > /data/g']);
    await ok(['create', '--name', 'df-b', image, 'true']);
    try {
      const imageSize = (await json<{ Size: number }[]>(['image', 'inspect', image]))[0]!.Size;
      const [a] = await json<{ SizeRw: number; SizeRootFs: number }[]>(['inspect', '--size', 'df-a']);
      assert.equal(a!.SizeRw, 100000);
      assert.equal(a!.SizeRootFs, 100000 + imageSize);
      assert.equal((await json<Record<string, unknown>[]>(['container', 'inspect', 'df-a']))[0]!.SizeRw, undefined, 'sizes only with --size');
      const ps = lines(await ok(['ps', '-a', '-s', '--format', '{{.Names}} {{.Size}}'])).sort();
      assert.deepEqual(ps, [`df-a 100kB (virtual ${human(100000 + imageSize)})`, `df-b 0B (virtual ${human(imageSize)})`]);
      assert.match(lines(await ok(['ps', '-a', '-s']))[0]!, /NAMES +SIZE$/);
      const d = await df();
      assert.deepEqual(Object.keys(d), ['Images', 'Containers', 'Local Volumes', 'Build Cache']);
      assert.deepEqual(d.Images, { Type: 'Images', TotalCount: '1', Active: '1', Size: human(imageSize), Reclaimable: '0B (0%)' });
      assert.deepEqual(d.Containers, { Type: 'Containers', TotalCount: '2', Active: '0', Size: '100kB', Reclaimable: '100kB (100%)' });
      assert.deepEqual(d['Local Volumes'], { Type: 'Local Volumes', TotalCount: '1', Active: '1', Size: '50kB', Reclaimable: '0B (0%)' });
      const table = lines(await ok(['system', 'df']));
      assert.match(table[0]!, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
      assert.match(table[2]!, /^Containers +2 +0 +100kB +100kB \(100%\)$/);
      const v = await ok(['system', 'df', '-v']);
      assert.match(v, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
      assert.match(v, /^df-vol +1 +50kB$/m);
      assert.match(v, /^Build cache usage: /m);
    } finally {
      await ok(['rm', 'df-a', 'df-b']);
      await ok(['volume', 'rm', 'df-vol']);
    }
  });

  test('system prune: asks on stdin; keeps what a running container and (without -a) a tagged image need', async () => {
    const other = fixtures().images.opaque.ref;
    await ok(['pull', '-q', other]);
    const running = (await ok(['run', '-d', '--name', 'pr-run', '-v', '/inuse', image, 'sleep', '300'])).trim();
    const stopped = (await ok(['create', '--name', 'pr-stop', '-v', '/anon', image, 'true'])).trim();
    await ok(['volume', 'create', 'pr-named']);
    try {
      const volumes = async (): Promise<string[]> => lines(await ok(['volume', 'ls', '-q']));
      const before = await volumes();
      assert.equal(before.length, 3);
      // no: nothing changes, one Error line
      const no = await sk(['system', 'prune'], { input: 'n\n' });
      assert.equal(no.code, 1);
      assert.match(no.stdout, /^WARNING! This will remove:\n {2}- all stopped containers\n {2}- all networks not used by at least one container\n {2}- all dangling images\n {2}- unused build cache\n\nAre you sure you want to continue\? \[y\/N\] $/);
      assert.equal(no.stderr, 'Error: system prune has been cancelled\n');
      assert.equal((await ids()).length, 2);
      const eof = await sk(['system', 'prune']);
      assert.equal(eof.code, 1, 'the end of the input is a no');
      // yes, with --volumes: the stopped container and its anonymous volume go
      const yes = await sk(['system', 'prune', '--volumes'], { input: 'y\n' });
      assert.equal(yes.code, 0, yes.stderr);
      assert.match(yes.stdout, new RegExp(`Deleted Containers:\n${stopped}\n`));
      assert.match(yes.stdout, /Total reclaimed space: /);
      assert.deepEqual(await ids(), [running]);
      const left = await volumes();
      assert.equal(left.length, 2, 'the running container\'s anonymous volume and the named one stay');
      assert.ok(left.includes('pr-named'));
      assert.equal(lines(await ok(['images', '-q'])).length, 2, 'tagged images stay without -a');
      // -a: images no container uses go; the running container's stays and it still runs
      const all = await ok(['system', 'prune', '-a', '-f']);
      assert.match(all, /Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n/);
      assert.equal(lines(await ok(['images', '-q'])).length, 1);
      assert.equal((await ok(['exec', 'pr-run', 'echo', 'alive'])), 'alive\n');
      const bad = await sk(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
      assert.equal(bad.code, 125);
      assert.equal(bad.stderr, 'Error: The "until" filter is not supported with "--volumes"\n');
    } finally {
      await ok(['rm', '-f', '-v', 'pr-run']);
      await ok(['volume', 'rm', 'pr-named']);
    }
  });

  test('builder prune: the build cache alone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-sys-'));
    try {
      fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${image}\nRUN head -c 30000 /dev/zero > /cached\n`);
      await ok(['build', '-q', '-t', 'bp:1', dir]);
      const cache = (await df())['Build Cache']!;
      assert.notEqual(cache.TotalCount, '0');
      assert.equal(cache.Size, '0B', 'the step\'s layer is the image\'s, not the cache\'s alone');
      const keep = await ok(['builder', 'prune', '-f']);
      assert.equal(keep, 'Total reclaimed space: 0B\n', 'an entry an image uses is not dangling');
      await ok(['rmi', 'bp:1']);
      const gone = await ok(['builder', 'prune', '-f']);
      assert.match(gone, /^Deleted build cache objects:\n[0-9a-f]{64}\n/);
      assert.equal((await df())['Build Cache']!.TotalCount, '0');
      assert.equal(lines(await ok(['images', '-q'])).length, 1, 'images stay');
      const no = await sk(['builder', 'prune'], { input: 'n\n' });
      assert.equal(no.code, 1);
      assert.match(no.stdout, /^WARNING! This will remove all dangling build cache\.\nAre you sure you want to continue\? \[y\/N\] $/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an OOM kill: State.OOMKilled, exit 137, an oom event (foreground and detached)', async (t) => {
    const hog = ['-m', '8m', image, 'sh', '-c', 'x=0123456789abcdef; while :; do x=$x$x; done'];
    // first whether a memory limit applies here at all: without one the hog would take the machine's memory
    const probe = await sk(['run', '--rm', '-m', '8m', image, 'true']);
    assert.equal(probe.code, 0, probe.stderr);
    if (/memory limit is not applied/.test(probe.stderr)) {
      // rootless without a delegated memory controller: the kernel cannot limit the container's memory
      t.skip(`the memory limit cannot be applied here: ${probe.stderr.trim()}`);
      return;
    }
    const since = (Date.now() / 1000).toFixed(3);
    const fg = await sk(['run', '--name', 'oom-fg', ...hog]);
    try {
      assert.equal(fg.code, 137, fg.stderr);
      type St = { State: { OOMKilled: boolean; ExitCode: number } }[];
      assert.deepEqual((await json<St>(['inspect', 'oom-fg']))[0]!.State.OOMKilled, true);
      await ok(['run', '-d', '--name', 'oom-d', ...hog]);
      assert.equal((await ok(['wait', 'oom-d'])).trim(), '137');
      const d = (await json<St>(['inspect', 'oom-d']))[0]!.State;
      assert.deepEqual([d.OOMKilled, d.ExitCode], [true, 137]);
      const ev = lines(await ok(['events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'container=oom-d', '--format', '{{.Action}} {{index .Actor.Attributes "exitCode"}}']));
      assert.deepEqual(ev, ['create ', 'start ', 'oom ', 'die 137']);
      await ok(['run', '--name', 'oom-no', '-m', '8m', image, 'true']);
      assert.equal((await json<St>(['inspect', 'oom-no']))[0]!.State.OOMKilled, false);
    } finally {
      await sk(['rm', '-f', 'oom-fg', 'oom-d', 'oom-no']);
    }
  });
});
