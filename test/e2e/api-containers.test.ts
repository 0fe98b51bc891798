/**
 * The container half of the Engine API (`skiff system service`) through Debian's real `docker`
 * client with DOCKER_HOST at the service: exec (output, exit code, -e/-w/-u, -i with stdin, -d), cp
 * both ways (the archive endpoints), stats --no-stream, pause/unpause, container prune, diff,
 * export; plus raw requests for exec inspect and the archive stat header. Rootful and rootless.
 * Containers use `--network none`: nothing here needs a network.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { blockDevice, READ_THROTTLE } from '../helpers/devices.js';
import { openSession, raw, run, type Service, type ServiceSession } from '../helpers/api-service.js';
import { fixtures, isRootless, skiff, until, type RunResult, type TempStore } from '../helpers/fixtures.js';
import { storeMounts, storeProcessesSettled } from '../helpers/leftovers.js';

/** whether containers get a cgroup of their own (rootless: only in a delegated one, scripts/test.sh) */
const ownCgroups = !isRootless() || (process.env.SKIFF_TEST_CGROUP ?? '') !== '';

/** A request on the socket with a JSON body. */
const request = (method: string, target: string, body?: unknown): string => {
  const text = body === undefined ? '' : JSON.stringify(body);
  return `${method} /v1.41${target} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
};

const jsonBody = <T>(reply: string): T => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as T;

describe('system service: container endpoints through the docker client', () => {
  let store: TempStore;
  let svc: Service;
  let image: string;
  let host: string;
  let session: ServiceSession;
  const docker = (args: string[], input?: string): Promise<RunResult> => session.docker(args, input);

  before(async () => {
    session = await openSession();
    ({ store, svc } = session);
    image = fixtures().images.busybox.ref;
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-api-cp-'));
    const pull = await docker(['pull', '-q', image]);
    assert.equal(pull.code, 0, pull.stderr);
    const d = await docker(['run', '-d', '--network', 'none', '--name', 'api-box', image, 'sh', '-c', 'exec sleep 600']);
    assert.equal(d.code, 0, d.stderr);
  });
  after(async () => {
    if (host) fs.rmSync(host, { recursive: true, force: true });
    await session?.close();
  });

  test('docker exec: stdout and stderr apart, the exit code passes through', async () => {
    const r = await docker(['exec', 'api-box', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'to-out\n');
    assert.equal(r.stderr, 'to-err\n');
    const missing = await docker(['exec', 'api-box', 'no-such-cmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /no-such-cmd/);
  });

  test('docker exec -e, -w, -u: environment, working directory and user of the process', async () => {
    const r = await docker(['exec', '-e', 'GREETING=hi there', '-w', '/tmp', '-u', '1000:1000', 'api-box', 'sh', '-c', 'echo "$GREETING|$(pwd)|$(id -u):$(id -g)"']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi there|/tmp|1000:1000\n');
  });

  test('docker exec -i: stdin reaches the process and its end ends the input', async () => {
    const r = await docker(['exec', '-i', 'api-box', 'sh', '-c', 'wc -l; echo read-all'], 'one\ntwo\nthree\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '3\nread-all\n');
  });

  test('docker exec -d runs in the background; exec into a stopped container is refused', async () => {
    const d = await docker(['exec', '-d', 'api-box', 'sh', '-c', 'echo detached > /tmp/detached']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, '');
    await until('the detached exec\'s file', async () => (await docker(['exec', 'api-box', 'cat', '/tmp/detached'])).stdout === 'detached\n');
    const c = await docker(['create', '--network', 'none', '--name', 'api-stopped', image, 'true']);
    assert.equal(c.code, 0, c.stderr);
    const r = await docker(['exec', 'api-stopped', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: Container [0-9a-f]{64} is not running/);
    assert.equal((await docker(['rm', 'api-stopped'])).code, 0);
  });

  test('a client that leaves a running exec takes the exec with it; the service keeps serving', async () => {
    const client = spawn('docker', ['exec', 'api-box', 'sh', '-c', 'echo exec-up; exec sleep 321'], { env: { ...process.env, ...session.env }, stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      client.stdout.once('data', () => resolve());
      client.once('close', (code) => reject(new Error(`docker exec ended (${code}) before any output`)));
    });
    const top = async (): Promise<string> => (await docker(['top', 'api-box'])).stdout;
    assert.match(await top(), /sleep 321/);
    client.kill('SIGKILL');
    await until('the exec\'s process to go', async () => !/sleep 321/.test(await top()));
    assert.equal((await docker(['exec', 'api-box', 'echo', 'still-serving'])).stdout, 'still-serving\n');
  });

  test('exec over raw requests: create 201, start streams frames, inspect has the exit code; errors are JSON', async () => {
    const created = await raw(svc.sock, request('POST', '/containers/api-box/exec', { Cmd: ['sh', '-c', 'echo raw-out; exit 4'], AttachStdout: true, AttachStderr: true }));
    assert.match(created, /^HTTP\/1\.1 201 /);
    const { Id } = jsonBody<{ Id: string }>(created);
    assert.match(Id, /^[0-9a-f]{64}$/);
    const started = await raw(svc.sock, request('POST', `/exec/${Id}/start`, { Detach: false, Tty: false }));
    assert.match(started, /^HTTP\/1\.1 200 /);
    assert.match(started, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
    assert.ok(started.includes('\x01\x00\x00\x00\x00\x00\x00\x08raw-out\n'), JSON.stringify(started));
    const inspected = jsonBody<{ ExitCode: number; Running: boolean; ProcessConfig: { entrypoint: string } }>(await raw(svc.sock, request('GET', `/exec/${Id}/json`)));
    assert.equal(inspected.ExitCode, 4);
    assert.equal(inspected.Running, false);
    assert.equal(inspected.ProcessConfig.entrypoint, 'sh');
    const again = await raw(svc.sock, request('POST', `/exec/${Id}/start`, { Detach: false }));
    assert.match(again, /^HTTP\/1\.1 409 /);
    const none = await raw(svc.sock, request('GET', '/exec/0123456789abcdef/json'));
    assert.match(none, /^HTTP\/1\.1 404 [^]*\{"message":"No such exec instance: 0123456789abcdef"\}/);
    const noCmd = await raw(svc.sock, request('POST', '/containers/api-box/exec', { Cmd: [] }));
    assert.match(noCmd, /^HTTP\/1\.1 400 /);
  });

  test('exec with a tty over a hijacked connection: 101 UPGRADED, raw output, resize sets its terminal size', async () => {
    const created = await raw(svc.sock, request('POST', '/containers/api-box/exec', { Cmd: ['sh', '-c', 'read x; stty size'], AttachStdin: true, AttachStdout: true, Tty: true }));
    const { Id } = jsonBody<{ Id: string }>(created);
    const body = JSON.stringify({ Detach: false, Tty: true });
    const conn = net.createConnection({ path: svc.sock });
    let got = '';
    conn.on('data', (d: Buffer) => (got += d.toString()));
    const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
    conn.write(`POST /v1.41/exec/${Id}/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await until('the 101', () => got.includes('\r\n\r\n'));
    assert.match(got, /^HTTP\/1\.1 101 UPGRADED\r\n[^]*Content-Type: application\/vnd\.docker\.raw-stream/);
    const resized = await raw(svc.sock, request('POST', `/exec/${Id}/resize?h=40&w=100`));
    assert.match(resized, /^HTTP\/1\.1 200 /);
    conn.write('go\n');
    await closed;
    assert.match(got, /\r\n\r\n[^]*40 100\r\n/);
    const inspected = jsonBody<{ ExitCode: number }>(await raw(svc.sock, request('GET', `/exec/${Id}/json`)));
    assert.equal(inspected.ExitCode, 0);
  });

  test('docker cp into the container and out of it: files and directories', async () => {
    fs.writeFileSync(path.join(host, 'hello.txt'), 'hello from the host\n');
    fs.mkdirSync(path.join(host, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(host, 'tree/sub/leaf'), 'leaf\n');
    const file = await docker(['cp', path.join(host, 'hello.txt'), 'api-box:/tmp/']);
    assert.equal(file.code, 0, file.stderr);
    const dir = await docker(['cp', path.join(host, 'tree'), 'api-box:/tmp/tree']);
    assert.equal(dir.code, 0, dir.stderr);
    const inside = await docker(['exec', 'api-box', 'sh', '-c', 'cat /tmp/hello.txt /tmp/tree/sub/leaf; stat -c %u /tmp/hello.txt']);
    assert.equal(inside.stdout, 'hello from the host\nleaf\n0\n');
    await docker(['exec', 'api-box', 'sh', '-c', 'mkdir -p /srv/out && echo made-inside > /srv/out/f']);
    const out = await docker(['cp', 'api-box:/srv/out', path.join(host, 'copied')]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.readFileSync(path.join(host, 'copied/f'), 'utf8'), 'made-inside\n');
    const one = await docker(['cp', 'api-box:/srv/out/f', path.join(host, 'single')]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(fs.readFileSync(path.join(host, 'single'), 'utf8'), 'made-inside\n');
    const missing = await docker(['cp', 'api-box:/no/such/path', host]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/no\/such\/path in container api-box/);
  });

  test('archive HEAD: the path stat as base64 JSON in X-Docker-Container-Path-Stat; PUT refuses a non-directory', async () => {
    const head = await raw(svc.sock, 'HEAD /v1.41/containers/api-box/archive?path=/etc/passwd HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 /);
    const b64 = /X-Docker-Container-Path-Stat: ([A-Za-z0-9+/=]+)/i.exec(head)?.[1];
    assert.ok(b64, head);
    const st = JSON.parse(Buffer.from(b64, 'base64').toString()) as { name: string; mode: number; size: number };
    assert.equal(st.name, 'passwd');
    assert.equal(st.mode & 0o777, 0o644);
    assert.ok(st.size > 0);
    const dirHead = await raw(svc.sock, 'HEAD /v1.41/containers/api-box/archive?path=/etc HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    const dirStat = JSON.parse(Buffer.from(/X-Docker-Container-Path-Stat: (\S+)/i.exec(dirHead)![1]!, 'base64').toString()) as { mode: number };
    assert.ok(dirStat.mode >= 2 ** 31, 'a directory has Go\'s ModeDir bit');
    const put = await raw(svc.sock, 'PUT /v1.41/containers/api-box/archive?path=/etc/passwd HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.match(put, /^HTTP\/1\.1 400 [^]*extraction point is not a directory/);
    const nothing = await raw(svc.sock, 'HEAD /v1.41/containers/api-box/archive?path=/nope HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(nothing, /^HTTP\/1\.1 404 /);
  });

  test('docker stats --no-stream: one sample of the running container', async () => {
    const r = await docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^api-box [1-9]\d* \d/m);
    const one = await docker(['stats', '--no-stream', '--format', '{{.Container}}', 'api-box']);
    assert.equal(one.stdout, 'api-box\n');
  });

  test('docker pause and unpause; exec into a paused container is refused', { skip: !ownCgroups && 'rootless without a delegated cgroup: containers have no cgroup to freeze' }, async () => {
    const p = await docker(['pause', 'api-box']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'api-box'])).stdout, 'paused true\n');
    const e = await docker(['exec', 'api-box', 'true']);
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /is paused, unpause the container before exec/);
    const again = await docker(['pause', 'api-box']);
    assert.notEqual(again.code, 0);
    const u = await docker(['unpause', 'api-box']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal((await docker(['inspect', '-f', '{{.State.Status}}', 'api-box'])).stdout, 'running\n');
    assert.equal((await docker(['exec', 'api-box', 'echo', 'thawed'])).stdout, 'thawed\n');
  });

  test('docker diff and docker export: the container\'s changes and its filesystem as a tar', async () => {
    const c = await docker(['exec', 'api-box', 'sh', '-c', 'mkdir /added && echo x > /added/file && rm /bin/vi']);
    assert.equal(c.code, 0, c.stderr);
    const diff = await docker(['diff', 'api-box']);
    assert.equal(diff.code, 0, diff.stderr);
    const lines = diff.stdout.split('\n');
    for (const l of ['A /added', 'A /added/file', 'D /bin/vi', 'C /bin']) assert.ok(lines.includes(l), diff.stdout);
    const tarFile = path.join(host, 'export.tar');
    const x = await docker(['export', '-o', tarFile, 'api-box']);
    assert.equal(x.code, 0, x.stderr);
    const list = await run('tar', ['-tf', tarFile], {});
    assert.equal(list.code, 0, list.stderr);
    const names = list.stdout.split('\n');
    assert.ok(names.includes('added/file'), names.slice(0, 20).join(' '));
    assert.ok(names.includes('bin/sh'));
    assert.ok(!names.includes('bin/vi'));
  });

  test('docker run with limits: HostConfig has them in Docker\'s units, the cgroup has the block I/O rates', async (t) => {
    const d = blockDevice();
    if (!d) return t.skip('no block device on this host');
    const r = await docker([
      'run', '--network', 'none', '--name', 'api-limits', '-m', '64m', '--pids-limit', '50', '--ulimit', 'nofile=512:1024', '--shm-size', '32m',
      '--device-read-bps', `${d.path}:1mb`, '--device-write-bps', `${d.path}:2m`, '--device-read-iops', `${d.path}:100`,
      '--device-write-iops', `${d.path}:200`, image, 'sh', '-c', `ulimit -n; df -k /dev/shm | tail -1; ${READ_THROTTLE}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n');
    assert.equal(out[0], '512');
    assert.match(out[1]!, /^shm +32768 /);
    if (isRootless()) {
      // the io controller is not delegated here: each rate is a warning of the create response
      assert.equal(r.stderr.split('\n').filter((l) => /^WARNING: .*(BPS|IOPS) Block I\/O (read|write) limit/.test(l)).length, 4, r.stderr);
    } else if (out.length === 6) {
      assert.deepEqual(out.slice(2), [`${d.dev} 1048576`, `${d.dev} 2097152`, `${d.dev} 100`, `${d.dev} 200`]);
    } else {
      assert.deepEqual(out.slice(2), [`${d.dev} rbps=1048576 wbps=2097152 riops=100 wiops=200`]);
    }
    const hc = (JSON.parse((await docker(['inspect', 'api-limits'])).stdout) as { HostConfig: Record<string, unknown> }[])[0]!.HostConfig;
    assert.deepEqual([hc.ShmSize, hc.Ulimits], [32 * 1024 * 1024, [{ Name: 'nofile', Soft: 512, Hard: 1024 }]]);
    if (!isRootless() || ownCgroups) assert.deepEqual([hc.Memory, hc.PidsLimit], [64 * 1024 * 1024, 50]);
    if (!isRootless()) {
      assert.deepEqual(
        [hc.BlkioDeviceReadBps, hc.BlkioDeviceWriteBps, hc.BlkioDeviceReadIOps, hc.BlkioDeviceWriteIOps],
        [[{ Path: d.path, Rate: 1048576 }], [{ Path: d.path, Rate: 2097152 }], [{ Path: d.path, Rate: 100 }], [{ Path: d.path, Rate: 200 }]],
      );
    }
    const bad = await docker(['create', '--network', 'none', '--blkio-weight', '5', image, 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Range of blkio weight is from 10 to 1000/);
    assert.equal((await docker(['rm', 'api-limits'])).code, 0);
  });

  test('docker container prune removes stopped containers and keeps running ones', async () => {
    const c = await docker(['run', '--network', 'none', '--name', 'api-done', image, 'true']);
    assert.equal(c.code, 0, c.stderr);
    const id = (await docker(['inspect', '-f', '{{.Id}}', 'api-done'])).stdout.trim();
    const p = await docker(['container', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`Deleted Containers:\\n${id}\\n`));
    assert.match(p.stdout, /Total reclaimed space: /);
    assert.equal((await docker(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'api-box\n');
  });

  test('a container the skiff CLI started: docker exec and cp (both ways) reach it', async () => {
    // rootless, the service's listener runs outside skiff's user namespace, as the CLI's run does
    // (ARCHITECTURE.md, the Engine API): it enters the container, and its cp worker gets the root
    const started = await skiff(['run', '-d', '--network', 'none', '--name', 'api-cli', image, 'sh', '-c', 'echo from-cli > /tmp/mark; exec sleep 600'], { store });
    assert.equal(started.code, 0, started.stderr);
    const ex = await docker(['exec', 'api-cli', 'cat', '/tmp/mark']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, 'from-cli\n');
    const cp = await docker(['cp', 'api-cli:/tmp/mark', path.join(host, 'cli-mark')]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(fs.readFileSync(path.join(host, 'cli-mark'), 'utf8'), 'from-cli\n');
    fs.writeFileSync(path.join(host, 'to-cli'), 'from-docker-cp\n');
    const into = await docker(['cp', path.join(host, 'to-cli'), 'api-cli:/tmp/']);
    assert.equal(into.code, 0, into.stderr);
    const back = await skiff(['exec', 'api-cli', 'cat', '/tmp/to-cli'], { store });
    assert.equal(back.stdout, 'from-docker-cp\n', back.stderr);
    // a container the service started: the CLI reaches it too
    const mine = await skiff(['exec', 'api-box', 'echo', 'cli-in-api-box'], { store });
    assert.equal(mine.stdout, 'cli-in-api-box\n', mine.stderr);
    assert.equal((await docker(['rm', '-f', 'api-cli'])).code, 0);
  });

  test('SIGTERM: the service exits and leaves nothing of the execs behind', async () => {
    assert.equal((await docker(['rm', '-f', 'api-box'])).code, 0);
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0, svc.stderr());
    assert.deepEqual(await storeProcessesSettled(store), []);
    assert.deepEqual(storeMounts(store), []);
  });
});
