/**
 * `skiff system service`: the Docker Engine API on a Unix socket, driven by real clients — Debian's
 * `docker` CLI (docker.io) and docker-py (python3-docker) with DOCKER_HOST pointing at the service —
 * plus raw requests for the error shapes and bad input. Rootful and rootless (the service hands
 * store work to a worker in skiff's user namespace). Waits are bounded polls for a state, never timing assertions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ping, raw, run, startService, type Service } from '../helpers/api-service.js';
import { fixtures, isRootless, processes, SKIFF_BIN, tempStore, until, type RunResult, type TempStore } from '../helpers/fixtures.js';
import { storeMounts, storeProcessesSettled } from '../helpers/leftovers.js';

describe('system service: the Engine API', () => {
  let store: TempStore;
  let svc: Service;
  let image: string;
  let env: Record<string, string>;
  const docker = (args: string[], input?: string): Promise<RunResult> => run('docker', args, env, input);

  before(async () => {
    store = await tempStore();
    image = fixtures().images.busybox.ref;
    svc = await startService(store);
    env = { DOCKER_HOST: `unix://${svc.sock}`, DOCKER_CONFIG: path.join(store.home, '.docker') };
  });
  after(async () => {
    if (svc && svc.child.exitCode === null) svc.child.kill('SIGKILL');
    await store.cleanup();
  });

  test('the socket is the owner\'s only (rootless 0600, root 0660) in a directory nobody else can write', () => {
    const st = fs.statSync(svc.sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, process.getuid!() === 0 ? 0o660 : 0o600);
    assert.equal(fs.statSync(store.runroot).mode & 0o022, 0);
  });

  test('docker version negotiates API 1.41 with the Debian docker client', async () => {
    const r = await docker(['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1\.41 1\.41\n$/);
  });

  test('docker pull from the test registry, then images lists it', async () => {
    const r = await docker(['pull', image]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pull complete|Already exists/);
    assert.match(r.stdout, /Status: Downloaded newer image|Image is up to date/);
    const imgs = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(imgs.code, 0, imgs.stderr);
    assert.ok(imgs.stdout.split('\n').includes(image), imgs.stdout);
    const ins = await docker(['image', 'inspect', '-f', '{{.Os}}', image]);
    assert.equal(ins.stdout, 'linux\n');
  });

  test('docker run: output and the exit code pass through, --rm leaves nothing', async () => {
    const ok = await docker(['run', '--rm', image, 'sh', '-c', 'echo to-out; echo to-err >&2']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'to-out\n');
    assert.match(ok.stderr, /to-err/);
    const bad = await docker(['run', '--name', 'api-exit3', image, 'sh', '-c', 'exit 3']);
    assert.equal(bad.code, 3, bad.stderr);
    assert.equal((await docker(['rm', 'api-exit3'])).code, 0);
    // a --rm container whose start fails before it runs (here: the network of a container that does
    // not run) is removed, as by Docker's daemon: `docker run --rm` waits for that (it waited for ever)
    assert.equal((await docker(['create', '--name', 'api-notrunning', image, 'true'])).code, 0);
    for (const detach of [[], ['-d']]) {
      const refused = await docker(['run', '--rm', ...detach, '--network', 'container:api-notrunning', image, 'true']);
      assert.equal(refused.code, 125, refused.stderr);
      assert.match(refused.stderr, /Error response from daemon: cannot join network namespace of a non running container/);
    }
    // without --rm it stays, as created: not "Up" for as long as the service lives
    const kept = await docker(['run', '-d', '--name', 'api-failed', '--network', 'container:api-notrunning', image, 'true']);
    assert.equal(kept.code, 125, kept.stderr);
    assert.equal((await docker(['ps', '-a', '--filter', 'name=api-failed', '--format', '{{.Status}}'])).stdout, 'Created\n');
    assert.equal((await docker(['rm', 'api-notrunning', 'api-failed'])).code, 0);
    const left = await docker(['ps', '-aq']);
    assert.equal(left.stdout, '');
  });

  test('docker run -d, logs, ps, inspect, top, stop, rm', async () => {
    const d = await docker(['run', '-d', '--name', 'api-web', image, 'sh', '-c', 'echo started; echo oops >&2; exec sleep 300']);
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await until('the log', async () => (await docker(['logs', 'api-web'])).stdout === 'started\n');
    const logs = await docker(['logs', 'api-web']);
    assert.equal(logs.stdout, 'started\n');
    assert.equal(logs.stderr, 'oops\n');
    const ps = await docker(['ps', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    assert.equal(ps.stdout, `${id.slice(0, 12)} api-web running\n`);
    const ins = await docker(['inspect', '-f', '{{.State.Running}} {{.Name}} {{.Config.Cmd}}', 'api-web']);
    assert.equal(ins.stdout, 'true /api-web [sh -c echo started; echo oops >&2; exec sleep 300]\n');
    const top = await docker(['top', 'api-web']);
    assert.match(top.stdout, /sleep 300/);
    const stop = await docker(['stop', '-t', '1', 'api-web']);
    assert.equal(stop.code, 0, stop.stderr);
    const st = await docker(['inspect', '-f', '{{.State.Status}}', 'api-web']);
    assert.equal(st.stdout, 'exited\n');
    const rm = await docker(['rm', 'api-web']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await docker(['ps', '-aq'])).stdout, '');
  });

  test("errors are Docker's: 404 no such container/image, 409 conflict", async () => {
    const rm = await docker(['rm', 'no-such-ctr']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /Error response from daemon: No such container: no-such-ctr/);
    const created = await docker(['create', '--name', 'api-twice', image, 'true']);
    assert.equal(created.code, 0, created.stderr);
    const again = await docker(['create', '--name', 'api-twice', image, 'true']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /Error response from daemon: .*api-twice/);
    const body = JSON.stringify({ Image: image, Cmd: ['true'] });
    const c = await raw(svc.sock, `POST /v1.41/containers/create?name=api-twice HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    assert.match(c, /^HTTP\/1\.1 409 /);
    assert.match(c, /"message":/);
    assert.equal((await docker(['rm', 'api-twice'])).code, 0);
    const img = await raw(svc.sock, 'GET /v1.41/images/no-such-image:1/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(img, /^HTTP\/1\.1 404 /);
    assert.match(img, /\{"message":"No such image: no-such-image:1"\}/);
  });

  test('bad input: garbage, malformed JSON, unknown paths, a huge body — a 4xx each, and the service keeps serving', async () => {
    const garbage = await raw(svc.sock, Buffer.from('\x00\x01garbage\r\n\r\n\xff\xfe'));
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    const bad = await raw(svc.sock, 'POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"Image":');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    assert.match(bad, /invalid JSON/);
    const wrongType = await raw(svc.sock, 'POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{"Image":"x","Cmd":[1,2]}\n');
    assert.match(wrongType, /^HTTP\/1\.1 400 /);
    const unknown = await raw(svc.sock, 'GET /v1.41/nowhere HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(unknown, /^HTTP\/1\.1 404 /);
    const big = Buffer.alloc(100 << 20, 0x20);
    const huge = await raw(svc.sock, Buffer.concat([Buffer.from(`POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`), big])).catch((e: Error) => e.message);
    assert.match(huge, /^HTTP\/1\.1 413 |ECONNRESET|EPIPE/);
    assert.ok(await ping(svc.sock));
    assert.equal((await docker(['ps', '-aq'])).stdout, '');
  });

  test('50 concurrent requests are all answered', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      raw(svc.sock, `GET /v1.41/${i % 2 ? 'containers/json?all=1' : 'images/json'} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n`)));
    for (const r of replies) assert.match(r, /^HTTP\/1\.1 200 /);
  });

  test('a client that leaves a followed log mid-stream leaves the service serving', async () => {
    const d = await docker(['run', '-d', image, 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    const follower = spawn('docker', ['logs', '-f', id], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    // the first line, or the follower's end (a failure, not a wait for ever)
    await new Promise<void>((resolve, reject) => {
      follower.stdout.once('data', () => resolve());
      follower.once('close', (code) => reject(new Error(`docker logs -f ended (${code}) before any output`)));
    });
    follower.kill('SIGKILL');
    assert.ok(await ping(svc.sock));
    assert.equal((await docker(['rm', '-f', id])).code, 0);
  });

  test('docker-py: pull, create, start, wait, logs, remove', async () => {
    const script = [
      'import sys, docker',
      'c = docker.DockerClient(base_url=sys.argv[1], version="auto")',
      'repo, tag = sys.argv[2].rsplit(":", 1)',
      'c.images.pull(repo, tag=tag)',
      'ct = c.containers.create(sys.argv[2], ["sh", "-c", "echo py-out; echo py-err >&2; exit 7"])',
      'ct.start()',
      'print("status", ct.wait()["StatusCode"])',
      'print("out", ct.logs(stdout=True, stderr=False).decode().strip())',
      'print("err", ct.logs(stdout=False, stderr=True).decode().strip())',
      'ct.remove()',
      'print("left", len(c.containers.list(all=True)))',
    ].join('\n');
    // Debian's python, which python3-docker is installed for (not a python first on PATH, such as pyenv's)
    const r = await run('/usr/bin/python3', ['-c', script, `unix://${svc.sock}`, image], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'status 7\nout py-out\nerr py-err\nleft 0\n');
  });

  test('SIGTERM: the service exits, its socket goes, no container process or mount is left', async () => {
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0, svc.stderr());
    assert.equal(fs.existsSync(svc.sock), false);
    assert.deepEqual(await storeProcessesSettled(store), []);
    assert.deepEqual(storeMounts(store), []);
  });
});

describe('system service: idle exit and its socket directory', () => {
  test('--time: the service exits by itself once idle, and removes its socket', async () => {
    const store = await tempStore();
    try {
      const svc = await startService(store, ['--time', '1']);
      assert.equal(await svc.exited, 0, svc.stderr());
      assert.equal(fs.existsSync(svc.sock), false);
    } finally {
      await store.cleanup();
    }
  });

  test('store requests at once on a fresh service are all answered (rootless: by one worker); SIGTERM leaves no worker', async () => {
    const store = await tempStore();
    try {
      const svc = await startService(store);
      const prune = 'POST /v1.41/volumes/prune HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
      const replies = await Promise.all(Array.from({ length: 8 }, () => raw(svc.sock, prune)));
      for (const r of replies) assert.match(r, /^HTTP\/1\.1 200 /);
      const workers = (): string[] => processes((c) => c.includes(`${store.runroot}/api-userns.`) && c.startsWith('skiff-shim unshare'));
      assert.equal(workers().length, isRootless() ? 1 : 0, workers().join('\n'));
      svc.child.kill('SIGTERM');
      assert.equal(await svc.exited, 0, svc.stderr());
      await until('the worker gone', async () => (workers().length === 0 ? true : undefined), 10_000);
    } finally {
      await store.cleanup();
    }
  });

  test('a socket directory other users can write to is refused', async () => {
    const store = await tempStore();
    try {
      fs.mkdirSync(store.runroot, { recursive: true, mode: 0o777 });
      fs.chmodSync(store.runroot, 0o777);
      const r = await run(SKIFF_BIN, ['system', 'service', '--time', '1'], store.env);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: .*writable by other users/m);
    } finally {
      await store.cleanup();
    }
  });

  test('a non-loopback TCP address is refused', async () => {
    const r = await run(SKIFF_BIN, ['system', 'service', 'tcp://0.0.0.0:2375'], {});
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: refusing to listen on 0\.0\.0\.0/m);
  });
});
