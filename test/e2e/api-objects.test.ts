/**
 * The Engine API's networks, volumes, build, push, auth, history, save/load and image prune, driven
 * by the real `docker` client (legacy builder: DOCKER_BUILDKIT=0, POST /build with a tar context) and
 * docker-py against `skiff system service`. The client keeps its own Docker config, apart from the
 * service's, so registry credentials reach the service only through /auth and X-Registry-Auth.
 * Rootful and rootless (there the service's listener runs outside skiff's user namespace, as the CLI,
 * and starts and connects containers on user-defined networks through a worker in the rootless network
 * namespace, which containers the CLI started share).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ping, raw, run, startService, type Service } from '../helpers/api-service.js';
import {
  AUTH_PASSWORD, AUTH_USER, authRegistry, fixtures, processes, registry, skiff, skopeoInspect, tempStore, until, type RunResult, type TempStore,
} from '../helpers/fixtures.js';
import { storeMounts, storeProcessesSettled } from '../helpers/leftovers.js';

const post = (p: string, body: unknown): string => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `POST ${p} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
};

describe('system service: networks, volumes, build, push, auth, archives', () => {
  let store: TempStore;
  let svc: Service;
  let image: string;
  let env: Record<string, string>;
  let ctxDir: string;
  const docker = (args: string[], input?: string): Promise<RunResult> => run('docker', args, env, input);
  const ok = async (args: string[], input?: string): Promise<RunResult> => {
    const r = await docker(args, input);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    store = await tempStore();
    // a pool of the test's own (as network.test.ts): the service's default network and networks
    // without --subnet come from here, apart from other tests' networks on the machine
    store.env.SKIFF_ADDRESS_POOLS = '10.213.0.0/16/24';
    image = fixtures().images.busybox.ref;
    svc = await startService(store);
    // the client's own config (credentials it keeps after login), not the service's
    env = { DOCKER_HOST: `unix://${svc.sock}`, DOCKER_CONFIG: path.join(store.home, 'client-docker'), DOCKER_BUILDKIT: '0' };
    await ok(['pull', image]);
    ctxDir = path.join(store.home, 'ctx');
    fs.mkdirSync(path.join(ctxDir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(ctxDir, 'hello.txt'), 'hello from the context\n');
    fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), [
      `FROM ${image}`,
      'ARG WHO=nobody',
      'RUN echo "built by $WHO" > /run.txt',
      'COPY hello.txt /hello.txt',
      'CMD ["cat", "/run.txt", "/hello.txt"]',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(ctxDir, 'sub', 'Other.Dockerfile'), `FROM ${image}\nCOPY hello.txt /other.txt\n`);
  });
  after(async () => {
    if (svc && svc.child.exitCode === null) svc.child.kill('SIGKILL');
    await store.cleanup();
  });

  test('docker network create / ls / inspect / connect / disconnect / rm / prune', async () => {
    const created = await ok(['network', 'create', '--label', 'api=obj', '--subnet', '10.212.37.0/24', 'api-net']);
    assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
    await ok(['network', 'create', 'api-net2']);
    const again = await docker(['network', 'create', 'api-net']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Error response from daemon: network with name api-net already exists/);
    const ls = await ok(['network', 'ls', '--filter', 'label=api=obj', '--format', '{{.Name}} {{.Driver}}']);
    assert.equal(ls.stdout, 'api-net bridge\n');
    const all = await ok(['network', 'ls', '--format', '{{.Name}}']);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), ['api-net', 'api-net2', 'bridge', 'host', 'none']);
    const ins = await ok(['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{.Labels.api}} {{.Id}}', 'api-net']);
    assert.equal(ins.stdout, `api-net bridge 10.212.37.0/24 obj ${created.stdout.trim()}\n`);
    const missing = await docker(['network', 'inspect', 'no-such-net']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no-such-net not found/);

    // a created container: connected in its record, with its alias
    await ok(['create', '--name', 'api-netc', '--network', 'api-net', image, 'sleep', '300']);
    await ok(['network', 'connect', '--alias', 'extra-name', 'api-net2', 'api-netc']);
    const nets = await ok(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'api-netc']);
    assert.deepEqual(nets.stdout.trim().split(' ').sort(), ['api-net', 'api-net2']);
    const twice = await docker(['network', 'connect', 'api-net2', 'api-netc']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already exists in network api-net2/);
    await ok(['network', 'disconnect', 'api-net2', 'api-netc']);
    const after1 = await ok(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'api-netc']);
    assert.equal(after1.stdout.trim(), 'api-net');

    // a running one gets its interface now, and the network lists it
    await ok(['start', 'api-netc']);
    await ok(['network', 'connect', 'api-net2', 'api-netc']);
    const members = await ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}', 'api-net2']);
    assert.match(members.stdout, /^api-netc \d+\.\d+\.\d+\.\d+\/\d+\n$/);
    const busy = await docker(['network', 'rm', 'api-net2']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /has active endpoints/);
    await ok(['network', 'disconnect', 'api-net2', 'api-netc']);
    const none = await ok(['network', 'inspect', '-f', '{{len .Containers}}', 'api-net2']);
    assert.equal(none.stdout, '0\n');
    await ok(['rm', '-f', 'api-netc']);

    const predefined = await docker(['network', 'rm', 'bridge']);
    assert.equal(predefined.code, 1);
    assert.match(predefined.stderr, /pre-defined network/);
    const rm = await ok(['network', 'rm', 'api-net']);
    assert.equal(rm.stdout, 'api-net\n');
    const pruned = await ok(['network', 'prune', '-f']);
    assert.equal(pruned.stdout, 'Deleted Networks:\napi-net2\n\n');
    const left = await ok(['network', 'ls', '--format', '{{.Name}}']);
    assert.deepEqual(left.stdout.trim().split('\n').sort(), ['bridge', 'host', 'none']);
  });

  test('docker run on a user-defined network reaches, by name, a container the skiff CLI created and started there', async () => {
    // rootless: both in the one rootless network namespace (the service's netns worker, the CLI's re-exec)
    await ok(['network', 'create', 'api-share']);
    // made by `skiff create` outside the rootless network namespace, started inside it (its spec fitted at the start)
    const web = await skiff(['create', '--network', 'api-share', '--name', 'api-cliweb', image, 'sh', '-c',
      'mkdir -p /w && echo from-cli-web >/w/index.html && exec httpd -f -p 80 -h /w'], { store });
    assert.equal(web.code, 0, web.stderr);
    const started = await skiff(['start', 'api-cliweb'], { store });
    assert.equal(started.code, 0, started.stderr);
    // httpd listens some time after run -d returns: the client container tries for a bounded while
    const got = await ok(['run', '--rm', '--network', 'api-share', image, 'sh', '-c',
      'for i in $(seq 1 30); do wget -qO- http://api-cliweb/ && exit 0; sleep 0.2; done; exit 1']);
    assert.equal(got.stdout, 'from-cli-web\n');
    // and the other way: a container the service started there, reached by the CLI's
    await ok(['run', '-d', '--network', 'api-share', '--name', 'api-apiweb', image, 'sh', '-c',
      'mkdir -p /w && echo from-api-web >/w/index.html && exec httpd -f -p 80 -h /w']);
    const back = await skiff(['exec', 'api-cliweb', 'sh', '-c',
      'for i in $(seq 1 30); do wget -qO- http://api-apiweb/ && exit 0; sleep 0.2; done; exit 1'], { store });
    assert.equal(back.stdout, 'from-api-web\n', back.stderr);
    const ex = await ok(['exec', 'api-cliweb', 'cat', '/w/index.html']);
    assert.equal(ex.stdout, 'from-cli-web\n');
    // one at a time: docker sends the removals of one `rm` at once, and two teardowns on one network
    // that reload its aardvark-dns together can miss each other's new listener (the shim's 5 s wait)
    await ok(['rm', '-f', 'api-apiweb']);
    await ok(['rm', '-f', 'api-cliweb']);
    // at once: the --rm client's monitor is gone (a zombie its reaper has not reaped yet holds no address)
    await ok(['network', 'rm', 'api-share']);
  });

  test('docker volume create / ls / inspect / rm / prune', async () => {
    assert.equal((await ok(['volume', 'create', '--label', 'api=obj', 'api-vol'])).stdout, 'api-vol\n');
    const unnamed = (await ok(['volume', 'create'])).stdout.trim();
    assert.match(unnamed, /^[0-9a-f]{64}$/);
    const ls = await ok(['volume', 'ls', '--filter', 'label=api=obj', '-q']);
    assert.equal(ls.stdout, 'api-vol\n');
    const all = await ok(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), ['local api-vol', `local ${unnamed}`].sort());
    const ins = await ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels.api}} {{.Scope}}', 'api-vol']);
    assert.equal(ins.stdout, 'api-vol local obj local\n');

    // a volume a container uses is not removed (409), and is once the container is gone
    await ok(['create', '--name', 'api-volc', '-v', 'api-vol:/data', image, 'true']);
    const busy = await docker(['volume', 'rm', 'api-vol']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /Error response from daemon: remove api-vol: volume is in use/);
    const dangling = await ok(['volume', 'ls', '--filter', 'dangling=true', '-q']);
    assert.equal(dangling.stdout, `${unnamed}\n`);
    await ok(['rm', 'api-volc']);
    assert.equal((await ok(['volume', 'rm', 'api-vol'])).stdout, 'api-vol\n');
    const gone = await docker(['volume', 'inspect', 'api-vol']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such volume: api-vol/);

    // API 1.41 (what this client negotiates): prune removes every unused volume, named ones too
    const pruned = await ok(['volume', 'prune', '-f']);
    assert.match(pruned.stdout, new RegExp(`^Deleted Volumes:\\n${unnamed}\\n\\nTotal reclaimed space: `));
    assert.equal((await ok(['volume', 'ls', '-q'])).stdout, '');
  });

  test('docker-py: networks and volumes', async () => {
    const script = [
      'import sys, docker',
      'c = docker.DockerClient(base_url=sys.argv[1], version="auto")',
      'n = c.networks.create("py-net", labels={"py": "1"})',
      'print("net", c.networks.get("py-net").name, [x.name for x in c.networks.list(filters={"label": "py=1"})])',
      'n.remove()',
      'v = c.volumes.create("py-vol", labels={"py": "1"})',
      'print("vol", c.volumes.get("py-vol").attrs["Labels"], [x.name for x in c.volumes.list(filters={"label": "py"})])',
      'v.remove()',
      'try:',
      '    c.volumes.get("py-vol")',
      'except docker.errors.NotFound:',
      '    print("gone")',
    ].join('\n');
    // Debian's python, which python3-docker is installed for
    const r = await run('/usr/bin/python3', ['-c', script, `unix://${svc.sock}`], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "net py-net ['py-net']\nvol {'py': '1'} ['py-vol']\ngone\n");
  });

  test('docker build -t: a tar context, RUN and COPY, build args, labels, -f inside the context, -q', async () => {
    const b = await ok(['build', '-t', 'api-built:1', '--build-arg', 'WHO=the-api', '--label', 'made=api', ctxDir]);
    assert.match(b.stdout, /(STEP|Step) 1\/\d+ ?: FROM /);
    assert.match(b.stdout, /Successfully built [0-9a-f]{12}\n/);
    assert.match(b.stdout, /Successfully tagged api-built:1\n/);
    const out = await ok(['run', '--rm', 'api-built:1']);
    assert.equal(out.stdout, 'built by the-api\nhello from the context\n');
    const label = await ok(['image', 'inspect', '-f', '{{index .Config.Labels "made"}}', 'api-built:1']);
    assert.equal(label.stdout, 'api\n');
    const q = await ok(['build', '-q', '-f', path.join(ctxDir, 'sub', 'Other.Dockerfile'), '-t', 'api-other:1', ctxDir]);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const id = await ok(['image', 'inspect', '-f', '{{.Id}}', 'api-other:1']);
    assert.equal(id.stdout, q.stdout);
    assert.equal((await ok(['run', '--rm', 'api-other:1', 'cat', '/other.txt'])).stdout, 'hello from the context\n');
  });

  test('docker build --ulimit --shm-size --add-host: the RUN steps\' limits and /etc/hosts', async () => {
    const dir = path.join(store.home, 'ctx-limits');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${image}\nRUN echo "nofile $(ulimit -n) $(ulimit -Hn) shm $(df -k /dev/shm | tail -n 1 | awk '{print $2}')k $(grep apihost /etc/hosts)"\n`);
    const b = await ok(['build', '--ulimit', 'nofile=512:1024', '--shm-size', '32m', '--add-host', 'apihost:10.1.2.3', '-t', 'api-limits:1', dir]);
    assert.match(b.stdout, /\nnofile 512 1024 shm 32768k 10\.1\.2\.3\sapihost\n/);
  });

  test('a failing build: the error reaches docker (exit 1), nothing is tagged, no build container is left', async () => {
    const dir = path.join(store.home, 'ctx-bad');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${image}\nRUN echo failing-step; exit 3\n`);
    const r = await docker(['build', '-t', 'api-bad:1', dir]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /failing-step/);
    assert.match(r.stderr, /did not complete successfully: exit code: 3/);
    assert.equal((await docker(['image', 'inspect', 'api-bad:1'])).code, 1);
    const missing = await docker(['build', '-f', 'nope.Dockerfile', dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.Dockerfile/);
    assert.equal((await ok(['ps', '-aq'])).stdout, '');
  });

  test('a client that leaves mid-build cancels it: the RUN is killed, the service keeps serving', async () => {
    const dir = path.join(store.home, 'ctx-endless');
    fs.mkdirSync(dir);
    const marker = `api-endless-${process.pid}`;
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${image}\nRUN while true; do echo ${marker}; sleep 0.2; done\n`);
    const client = spawn('docker', ['build', '-t', 'api-endless:1', dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      let got = '';
      client.stdout.setEncoding('utf8').on('data', (d: string) => {
        got += d;
        if (got.includes(`${marker}\n`)) resolve();
      });
      client.once('close', (code) => reject(new Error(`docker build ended (${code}) before its RUN printed: ${got}`)));
    });
    assert.ok(processes((cmd) => cmd.includes(marker)).length > 0, 'the RUN step runs');
    client.kill('SIGKILL');
    assert.ok(await ping(svc.sock));
    // the step's shell (its command line names the marker) is gone, killed with its shim
    await until('the RUN step to be killed', () => processes((cmd) => cmd.includes(marker)).length === 0, 20_000);
    assert.equal((await docker(['image', 'inspect', 'api-endless:1'])).code, 1);
  });

  test('docker history shows the build steps', async () => {
    const h = await ok(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}', 'api-built:1']);
    const rows = h.stdout.trim().split('\n');
    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'api-built:1'])).stdout.trim();
    assert.equal(rows[0]!.split('|')[0], id);
    assert.match(rows[0]!, /CMD/);
    assert.ok(rows.some((r) => /COPY/.test(r)), h.stdout);
    assert.ok(rows.some((r) => /built by/.test(r)), h.stdout);
    assert.ok(rows.slice(1).every((r) => r.startsWith('<missing>|')), h.stdout);
  });

  test('docker push to the test registry (streamed progress, digest)', async () => {
    const ref = `${registry()}/skiff-api/pushed:${process.pid}`;
    await ok(['tag', 'api-built:1', ref]);
    const p = await ok(['push', ref]);
    assert.match(p.stdout, /Pushed|Layer already exists|Mounted from/);
    const digest = /: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(p.stdout)?.[1];
    assert.ok(digest, p.stdout);
    assert.equal(skopeoInspect(ref).Digest, digest);
    await ok(['rmi', ref]);
  });

  test('docker login through /auth, then push with X-Registry-Auth to the auth registry', async () => {
    const reg = authRegistry();
    const bad = await docker(['login', reg, '-u', AUTH_USER, '--password-stdin'], 'wrong-password\n');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error response from daemon: .*login to .* failed/);
    const ref = `${reg}/skiff-api/authed:${process.pid}`;
    await ok(['tag', 'api-built:1', ref]);
    const anon = await docker(['push', ref]);
    assert.notEqual(anon.code, 0, anon.stdout);
    const good = await ok(['login', reg, '-u', AUTH_USER, '--password-stdin'], `${AUTH_PASSWORD}\n`);
    assert.match(good.stdout, /Login Succeeded/);
    // the client keeps the credentials; the service wrote none of its own
    assert.ok(fs.readFileSync(path.join(env.DOCKER_CONFIG!, 'config.json'), 'utf8').includes(reg));
    assert.equal(fs.existsSync(path.join(store.home, '.docker', 'config.json')), false);
    const p = await ok(['push', ref]);
    assert.match(p.stdout, /: digest: sha256:[0-9a-f]{64} size: \d+/);
    assert.ok(skopeoInspect(ref, false, `${AUTH_USER}:${AUTH_PASSWORD}`).Digest);
    // a build FROM it pulls with the client's credentials (X-Registry-Config)
    await ok(['rmi', ref]);
    const dir = path.join(store.home, 'ctx-auth');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${ref}\nLABEL from=auth\n`);
    await ok(['build', '-t', 'api-from-auth:1', dir]);
    await ok(['rmi', 'api-from-auth:1', ref]);
  });

  test('docker save | docker load, and save -o / load -i', async () => {
    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'api-built:1'])).stdout.trim();
    const file = path.join(store.home, 'built.tar');
    await ok(['save', '-o', file, 'api-built:1']);
    assert.ok(fs.statSync(file).size > 1024);
    await ok(['rmi', 'api-built:1']);
    const loaded = await ok(['load', '-i', file]);
    assert.equal(loaded.stdout, 'Loaded image: api-built:1\n');
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', 'api-built:1'])).stdout.trim(), id);
    await ok(['rmi', 'api-other:1']);
    const piped = await run('sh', ['-c', 'docker save "$1" > "$2.pipe" && docker rmi "$1" >/dev/null && docker load < "$2.pipe"', 'sh', 'api-built:1', file], env);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'Loaded image: api-built:1\n');
    assert.equal((await ok(['run', '--rm', 'api-built:1'])).stdout, 'built by the-api\nhello from the context\n');
    const none = await docker(['save', 'no-such-image:1']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no-such-image/);
  });

  test('docker image prune removes dangling images only; -a those no container uses', async () => {
    // the same tag built again from other content leaves the first image dangling
    const first = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'api-built:1'])).stdout.trim();
    fs.writeFileSync(path.join(ctxDir, 'hello.txt'), 'changed\n');
    await ok(['build', '-q', '-t', 'api-built:1', ctxDir]);
    const dangling = await ok(['images', '-q', '--no-trunc', '--filter', 'dangling=true']);
    assert.ok(dangling.stdout.includes(first), dangling.stdout);
    const pruned = await ok(['image', 'prune', '-f']);
    assert.match(pruned.stdout, new RegExp(`Deleted Images:\\ndeleted: ${first}\\n`));
    assert.match(pruned.stdout, /Total reclaimed space: /);
    assert.equal((await ok(['images', '-q', '--filter', 'dangling=true'])).stdout, '');
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', 'api-built:1'])).code, 0);
    // -a: every image no container uses (a created container keeps busybox)
    await ok(['create', '--name', 'api-keep', image, 'true']);
    await ok(['image', 'prune', '-a', '-f']);
    const left = await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(left.stdout, `${image}\n`);
    await ok(['rm', 'api-keep']);
  });

  test('bad requests: wrong types are 400, unknown objects 404, a garbage build context an error; the service keeps serving', async () => {
    const badNet = await raw(svc.sock, post('/v1.41/networks/create', { Name: 5 }));
    assert.match(badNet, /^HTTP\/1\.1 400 /);
    const badLabels = await raw(svc.sock, post('/v1.41/volumes/create', { Name: 'x', Labels: { a: 1 } }));
    assert.match(badLabels, /^HTTP\/1\.1 400 /);
    const noNet = await raw(svc.sock, 'GET /v1.41/networks/nope HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(noNet, /^HTTP\/1\.1 404 [^]*\{"message":"network nope not found"\}/);
    const noVol = await raw(svc.sock, 'DELETE /v1.41/volumes/nope HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(noVol, /^HTTP\/1\.1 404 /);
    const noHist = await raw(svc.sock, 'GET /v1.41/images/nope:1/history HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(noHist, /^HTTP\/1\.1 404 /);
    const garbage = 'not a tar archive at all';
    const build = await raw(svc.sock, `POST /v1.41/build?t=x HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\nContent-Length: ${garbage.length}\r\nConnection: close\r\n\r\n${garbage}`);
    assert.match(build, /^HTTP\/1\.1 (400|500) |"errorDetail"/);
    const badAuth = await raw(svc.sock, 'POST /v1.41/images/x/push HTTP/1.1\r\nHost: d\r\nX-Registry-Auth: !!!\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.match(badAuth, /^HTTP\/1\.1 400 /);
    assert.equal((await ok(['version', '--format', '{{.Server.APIVersion}}'])).stdout, '1.41\n');
  });

  test('SIGTERM: the service exits, no container process or mount is left', async () => {
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0, svc.stderr());
    assert.deepEqual(await storeProcessesSettled(store), []);
    assert.deepEqual(storeMounts(store), []);
  });
});
