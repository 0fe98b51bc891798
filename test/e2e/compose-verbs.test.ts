/**
 * The compose verbs beyond up/down, end to end through the CLI: build (a service with a `build:`
 * context) and push it to the local test registry, pull (and --ignore-pull-failures), create, start,
 * stop, restart (with and without --no-deps), kill, pause/unpause, rm, each state change seen through
 * `compose ps`; top, images, port, ls over two projects, version; errors exit 1 as docker compose.
 * Rootless: pause/unpause need the container's own cgroup (a delegated one), skipped otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isRootless, registry, skiff, skopeoInspect, storeWithImage, type TempStore } from '../helpers/fixtures.js';
import { freePort } from '../helpers/netns.js';

const ownCgroups = !isRootless() || (process.env.SKIFF_TEST_CGROUP ?? '') !== '';

function composeFile(image: string, port: number, appImage: string): string {
  return `name: verbs
services:
  db:
    image: ${image}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  web:
    image: ${image}
    command: ["sh", "-c", "mkdir -p /w && echo hi >/w/index.html && exec httpd -f -p 80 -h /w"]
    ports:
      - "127.0.0.1:${port}:80"
    depends_on: [db]
    stop_grace_period: 1s
  app:
    build:
      context: ./app
      args:
        GREETING: from-file
    image: ${appImage}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  ghost:
    image: ${registry()}/compose-verbs/no-such-image:1
    profiles: [extra]
`;
}

describe('compose verbs: build, push, pull, create, start, stop, restart, kill, pause, rm, top, images, port, ls', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  let other: string;
  let port: number;
  const appImage = `${registry()}/compose-verbs/app:${isRootless() ? 'rootless' : 'rootful'}-${process.pid}`;
  const compose = (args: string[], cwd = dir) => skiff(['compose', ...args], { store, cwd });
  const ok = async (args: string[], cwd = dir): Promise<{ stdout: string; stderr: string }> => {
    const r = await compose(args, cwd);
    assert.equal(r.code, 0, `compose ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** service → state, as `compose ps -a` shows them */
  const states = async (): Promise<Record<string, string>> => {
    const out = (await ok(['ps', '-a', '--format', '{{.Service}} {{.State}}'])).stdout;
    return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  };
  const ids = async (): Promise<Record<string, string>> => {
    const out = (await ok(['ps', '-a', '--format', '{{.Service}} {{.ID}}'])).stdout;
    return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  };
  const has = (stderr: string, ...lines: string[]): void => {
    for (const l of lines) assert.ok(stderr.includes(` ${l} \n`), `missing ${JSON.stringify(l)} in:\n${stderr}`);
  };

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    dir = fs.mkdtempSync(path.join(store.home, 'verbs-'));
    other = fs.mkdtempSync(path.join(store.home, 'other-'));
    port = await freePort();
    fs.writeFileSync(path.join(dir, 'compose.yaml'), composeFile(image, port, appImage));
    fs.mkdirSync(path.join(dir, 'app'));
    fs.writeFileSync(path.join(dir, 'app', 'Dockerfile'), `FROM ${image}\nARG GREETING=none\nRUN echo "$GREETING" >/greeting\n`);
    fs.writeFileSync(path.join(other, 'compose.yaml'), `services:\n  solo:\n    image: ${image}\n    command: ["sleep", "1000"]\n    stop_grace_period: 1s\n`);
  });
  after(async () => {
    await compose(['down', '-v', '-t', '0']).catch(() => undefined);
    await compose(['down', '-t', '0'], other).catch(() => undefined);
    await store.cleanup();
  });

  test('version', async () => {
    assert.equal((await ok(['version', '--short'])).stdout, '2.29.0\n');
    assert.match((await ok(['version'])).stdout, /^Docker Compose version v2\.29\.0 \(skiff .+\)\n$/);
    assert.deepEqual(JSON.parse((await ok(['version', '--format', 'json'])).stdout), { version: 'v2.29.0' });
  });

  test('build: the service with a build section, --build-arg over the file\'s args; push it; pull', async () => {
    const b = await ok(['build', '--build-arg', 'GREETING=from-cli']);
    has(b.stderr, 'Service app Building', 'Service app Built');
    assert.ok(!b.stderr.includes('Service db'), b.stderr);
    const run = await skiff(['run', '--rm', appImage, 'cat', '/greeting'], { store });
    assert.equal(run.stdout, 'from-cli\n', run.stderr);
    const b2 = await ok(['build', '--no-cache', 'app']);
    has(b2.stderr, 'Service app Built');
    assert.equal((await skiff(['run', '--rm', appImage, 'cat', '/greeting'], { store })).stdout, 'from-file\n');
    // build of a service without a build section does nothing; an unknown service is an error
    assert.equal((await ok(['build', 'db'])).stderr, '');
    const bad = await compose(['build', 'nosuch']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: no such service: nosuch\n');

    const p = await ok(['push']);
    has(p.stderr, 'app Pushing', 'app Pushed');
    assert.ok(!p.stderr.includes('db Push'), p.stderr); // no build section: nothing of db's is pushed
    const pushed = skopeoInspect(appImage) as { Digest?: string };
    assert.match(pushed.Digest ?? '', /^sha256:[0-9a-f]{64}$/);

    // pull: the image removed locally comes back from the local registry
    assert.equal((await skiff(['rmi', appImage], { store })).code, 0);
    const pl = await ok(['pull', 'app', 'db']);
    has(pl.stderr, 'app Pulling', 'app Pulled', 'db Pulling', 'db Pulled');
    assert.equal((await skiff(['image', 'inspect', '--format', '{{.Id}}', appImage], { store })).code, 0);
    assert.equal((await ok(['pull', '-q', 'db'])).stderr, '');
    // a service whose image is not in the registry: exit 1; --ignore-pull-failures: a warning
    const ghost = await compose(['--profile', 'extra', 'pull', 'ghost']);
    assert.equal(ghost.code, 1, ghost.stderr);
    assert.match(ghost.stderr, /^Error: .*no-such-image/m);
    const ignored = await ok(['--profile', 'extra', 'pull', '--ignore-pull-failures', 'ghost', 'db']);
    assert.match(ignored.stderr, /^WARN\[0000\] ghost: .*no-such-image/m);
    has(ignored.stderr, 'db Pulled');
  });

  test('create, start, stop, restart, kill, rm: the states compose ps shows', async () => {
    const c = await ok(['create']);
    has(c.stderr, 'Container verbs-db-1 Created', 'Container verbs-web-1 Created', 'Container verbs-app-1 Created');
    assert.deepEqual(await states(), { app: 'created', db: 'created', web: 'created' });

    const none = await compose(['start', 'nosuch']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Error: no such service: nosuch\n');
    const st = await ok(['start']);
    has(st.stderr, 'Container verbs-db-1 Started', 'Container verbs-web-1 Started', 'Container verbs-app-1 Started');
    const lines = st.stderr.split('\n');
    assert.ok(lines.indexOf(' Container verbs-db-1 Started ') < lines.indexOf(' Container verbs-web-1 Starting '), st.stderr);
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'running' });

    const sp = await ok(['stop', 'web']);
    has(sp.stderr, 'Container verbs-web-1 Stopping', 'Container verbs-web-1 Stopped');
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'exited' });
    await ok(['start', 'web']);
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'running' });

    // restart db: its dependent web too; --no-deps: db only
    const rs = await ok(['restart', '-t', '1', 'db']);
    has(rs.stderr, 'Container verbs-db-1 Restarting', 'Container verbs-web-1 Restarting', 'Container verbs-db-1 Started', 'Container verbs-web-1 Started');
    assert.ok(!rs.stderr.includes('verbs-app-1'), rs.stderr);
    const rn = await ok(['restart', '--no-deps', '-t', '1', 'db']);
    has(rn.stderr, 'Container verbs-db-1 Restarting', 'Container verbs-db-1 Started');
    assert.ok(!rn.stderr.includes('verbs-web-1'), rn.stderr);
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'running' });

    const k = await ok(['kill', '-s', 'SIGKILL', 'app']);
    has(k.stderr, 'Container verbs-app-1 Killing', 'Container verbs-app-1 Killed');
    assert.deepEqual(await states(), { app: 'exited', db: 'running', web: 'running' });
    const exit = (await ok(['ps', '-a', '--format', '{{.Service}} {{.ExitCode}}', 'app'])).stdout;
    assert.equal(exit, 'app 137\n');

    // rm: only stopped containers (app), asked only on a terminal; then nothing is stopped
    const before = await ids();
    const rm = await ok(['rm', '-f']);
    has(rm.stderr, 'Container verbs-app-1 Removing', 'Container verbs-app-1 Removed');
    assert.deepEqual(await ids(), { db: before.db, web: before.web });
    assert.equal((await ok(['rm', '-f'])).stderr, 'No stopped containers\n');
    // rm -s -f: stops, then removes (web first: it depends on db)
    const rms = await ok(['rm', '-s', '-f', 'web']);
    has(rms.stderr, 'Container verbs-web-1 Stopped', 'Container verbs-web-1 Removed');
    assert.deepEqual(await states(), { db: 'running' });
    await ok(['up', '-d']);
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'running' });
  });

  test('pause and unpause', { skip: !ownCgroups && 'rootless without a delegated cgroup: containers have no cgroup to freeze' }, async () => {
    const p = await ok(['pause', 'web']);
    has(p.stderr, 'Container verbs-web-1 Pausing', 'Container verbs-web-1 Paused');
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'paused' });
    const u = await ok(['unpause']);
    has(u.stderr, 'Container verbs-web-1 Unpaused');
    assert.ok(!u.stderr.includes('verbs-db-1'), u.stderr); // only paused containers are unpaused
    assert.deepEqual(await states(), { app: 'running', db: 'running', web: 'running' });
  });

  test('top, images, port', async () => {
    const top = (await ok(['top', 'db'])).stdout;
    const [name, header, ...rows] = top.split('\n');
    assert.equal(name, 'verbs-db-1');
    assert.match(header!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.ok(rows.some((r) => /\ssleep 1000$/.test(r)), top);
    assert.equal((await ok(['top'])).stdout.split('\n').filter((l) => /^verbs-/.test(l)).join(','), 'verbs-app-1,verbs-db-1,verbs-web-1');

    const img = (await ok(['images'])).stdout.split('\n');
    assert.match(img[0]!, /^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
    const appId = (await skiff(['image', 'inspect', '--format', '{{.Id}}', appImage], { store })).stdout.trim();
    const baseId = (await skiff(['image', 'inspect', '--format', '{{.Id}}', image], { store })).stdout.trim();
    const [repo, tag] = [appImage.slice(0, appImage.lastIndexOf(':')), appImage.slice(appImage.lastIndexOf(':') + 1)];
    assert.match(img[1]!, new RegExp(`^verbs-app-1\\s+${repo.replace(/\./g, '\\.')}\\s+${tag}\\s+${appId.slice(7, 19)}\\s+\\S+`));
    assert.match(img[2]!, new RegExp(`^verbs-db-1\\s+\\S+\\s+\\S+\\s+${baseId.slice(7, 19)}\\s`));
    assert.equal((await ok(['images', '-q'])).stdout, `${appId.slice(7)}\n${baseId.slice(7)}\n`);
    assert.equal((await ok(['images', '-q', 'web'])).stdout, `${baseId.slice(7)}\n`);

    assert.equal((await ok(['port', 'web', '80'])).stdout, `127.0.0.1:${port}\n`);
    const none = await compose(['port', 'web', '81']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Error: no port 81/tcp for container verbs-web-1\n');
    const udp = await compose(['port', '--protocol', 'udp', 'web', '80']);
    assert.equal(udp.code, 1);
  });

  test('ls: the projects of the store from their labels; -a shows stopped ones', async () => {
    await ok(['up', '-d'], other);
    const otherName = path.basename(other).toLowerCase().replace(/[^a-z0-9_-]/g, '');
    const ls = (await ok(['ls'])).stdout.split('\n');
    assert.match(ls[0]!, /^NAME\s+STATUS\s+CONFIG FILES$/);
    assert.match(ls.find((l) => l.startsWith(`${otherName} `)) ?? '', new RegExp(`^${otherName}\\s+running\\(1\\)\\s+${path.join(other, 'compose.yaml')}$`));
    assert.match(ls.find((l) => l.startsWith('verbs ')) ?? '', new RegExp(`^verbs\\s+running\\(3\\)\\s+${path.join(dir, 'compose.yaml')}$`));
    assert.equal((await ok(['ls', '-q'])).stdout, [otherName, 'verbs'].sort().map((n) => `${n}\n`).join(''));
    await ok(['stop'], other);
    assert.equal((await ok(['ls', '-q'])).stdout, 'verbs\n');
    const all = JSON.parse((await ok(['ls', '-a', '--format', 'json'])).stdout) as { Name: string; Status: string }[];
    assert.deepEqual(all.map((p) => [p.Name, p.Status]), [[otherName, 'exited(1)'], ['verbs', 'running(3)']].sort((a, b) => a[0]!.localeCompare(b[0]!)));
    assert.equal((await ok(['ls', '-a', '-q', '--filter', 'name=verb'])).stdout, 'verbs\n');
    // ls needs no compose file: it runs anywhere
    assert.equal((await ok(['ls', '-q'], store.home)).stdout, 'verbs\n');
    await ok(['down'], other);
    await ok(['down', '-t', '0']);
    assert.equal((await ok(['ls', '-a', '-q'])).stdout, '');
    assert.equal((await skiff(['ps', '-aq'], { store })).stdout, '');
  });
});

describe('compose up: --scale, --remove-orphans, --exit-code-from, --abort-on-container-exit', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  const compose = (args: string[]) => skiff(['compose', '-p', 'scl', ...args], { store, cwd: dir });
  const ok = async (args: string[]): Promise<{ stdout: string; stderr: string }> => {
    const r = await compose(args);
    assert.equal(r.code, 0, `compose ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const running = async (): Promise<string> => (await ok(['ps', '--format', '{{.Name}}'])).stdout.trim().split('\n').filter(Boolean).sort().join(',');
  const file = (withJob: boolean): string => `services:
  w:
    image: ${image}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
${withJob ? `  job:
    image: ${image}
    command: ["sh", "-c", "sleep 1; echo job-done; exit 3"]
` : ''}`;

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    dir = fs.mkdtempSync(path.join(store.home, 'scale-'));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), file(true));
  });
  after(async () => {
    await compose(['down', '-t', '0', '--remove-orphans']).catch(() => undefined);
    await store.cleanup();
  });

  test('--scale up and down; an orphan warned about, then removed with --remove-orphans', async () => {
    await ok(['up', '-d', '--scale', 'w=3', 'w']);
    assert.equal(await running(), 'scl-w-1,scl-w-2,scl-w-3');
    const down = await ok(['up', '-d', '--scale', 'w=1', 'w']);
    assert.ok(down.stderr.includes(' Container scl-w-3 Removed ') && down.stderr.includes(' Container scl-w-2 Removed '), down.stderr);
    assert.equal(await running(), 'scl-w-1');
    const bad = await compose(['up', '-d', '--scale', 'w']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: invalid --scale value "w": expected SERVICE=NUM\n');

    // a container of a service the file no longer has: an orphan
    await ok(['create', 'job']);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), file(false));
    const warned = await ok(['up', '-d']);
    assert.match(warned.stderr, /^WARN\[0000\] Found orphan containers \(scl-job-1\) for this project/m);
    assert.equal((await ok(['ps', '-a', '--format', '{{.Name}}'])).stdout, 'scl-job-1\nscl-w-1\n');
    const removed = await ok(['up', '-d', '--remove-orphans']);
    assert.ok(removed.stderr.includes(' Container scl-job-1 Removed '), removed.stderr);
    assert.equal((await ok(['ps', '-a', '--format', '{{.Name}}'])).stdout, 'scl-w-1\n');
    fs.writeFileSync(path.join(dir, 'compose.yaml'), file(true));
  });

  test('--exit-code-from: the foreground up ends when job ends, with its exit code, and stops the others', async () => {
    const r = await compose(['up', '--exit-code-from', 'job']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^job-1 +\| job-done$/m);
    assert.match(r.stdout, /^job-1 exited with code 3$/m);
    assert.match(r.stdout, /^Aborting on container exit\.\.\.$/m);
    assert.equal(await running(), '');
    const both = await compose(['up', '-d', '--abort-on-container-exit']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^Error: --abort-on-container-exit and -d cannot be combined\n$/);
  });
});
