/**
 * `skiff compose` end to end: a busybox httpd web service on a host port, a db whose healthcheck
 * becomes healthy after a delay, a worker that waits for db's health and writes into a named volume.
 * up -d --wait → the host fetches the page; ps/logs/config/exec/run; up again changes nothing; an
 * edited environment recreates only that service; down keeps the volume, down -v removes it; nothing
 * of the project is left. Rootless the same: the project's network is in the rootless network
 * namespace and web's published port is forwarded by its holder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { processes, skiff, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';
import { fetchText, freePort } from '../helpers/netns.js';

function composeFile(image: string, port: number, marker: string): string {
  return `name: demo
services:
  web:
    image: ${image}
    command: ["sh", "-c", "mkdir -p /w && echo hello-compose >/w/index.html && exec httpd -f -p 80 -h /w"]
    ports:
      - "127.0.0.1:${port}:80"
  db:
    image: ${image}
    command: ["sh", "-c", "sleep 2 && touch /tmp/ready && echo db-ready && exec sleep 1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
  worker:
    image: ${image}
    command: ["sh", "-c", "echo $$MARK >>/data/log && echo worker-wrote && exec sleep 1000"]
    environment:
      MARK: ${marker}
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - data:/data
volumes:
  data:
`;
}

describe('compose: up, ps, logs, exec, run, down', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  let port: number;
  const compose = (args: string[]) => skiff(['compose', ...args], { store, cwd: dir });
  const ok = async (args: string[]): Promise<{ stdout: string; stderr: string }> => {
    const r = await compose(args);
    assert.equal(r.code, 0, `compose ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const ids = async (): Promise<Record<string, string>> => {
    const out = (await ok(['ps', '-a', '--format', '{{.Name}} {{.ID}}'])).stdout;
    return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  };

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    store.env.SKIFF_ADDRESS_POOLS = '10.217.0.0/16/24';
    dir = fs.mkdtempSync(path.join(store.home, 'proj-'));
    port = await freePort();
    fs.writeFileSync(path.join(dir, 'compose.yaml'), composeFile(image, port, 'one'));
  });
  after(async () => {
    await compose(['down', '-v', '-t', '0']).catch(() => undefined);
    await store.cleanup();
  });

  test('config prints the normalised model; --services lists them', async () => {
    assert.equal((await ok(['config', '--services'])).stdout.split('\n').filter(Boolean).sort().join(','), 'db,web,worker');
    const json = JSON.parse((await ok(['config', '--format', 'json'])).stdout) as { name: string; services: Record<string, { environment: Record<string, string> }> };
    assert.equal(json.name, 'demo');
    assert.equal(json.services.worker!.environment.MARK, 'one');
    assert.equal((await ok(['config', '-q'])).stdout, '');
  });

  test('up -d --wait: dependency order, health, the published page, ps, logs, exec, run', async () => {
    const up = await ok(['up', '-d', '--wait']);
    for (const l of [' Container demo-db-1 Healthy ', ' Container demo-worker-1 Started ', ' Container demo-web-1 Started ', ' Volume "demo_data" Created ']) {
      assert.ok(up.stderr.includes(l), `missing ${JSON.stringify(l)} in:\n${up.stderr}`);
    }
    // the worker starts only once db is healthy
    const lines = up.stderr.split('\n');
    assert.ok(lines.indexOf(' Container demo-db-1 Healthy ') < lines.indexOf(' Container demo-worker-1 Starting '), up.stderr);
    // --wait means running (web has no healthcheck), not listening yet
    // (fetchText answers an error's code, ECONNREFUSED, as its text: wait for the page itself)
    const page = async (): Promise<string> => fetchText(`http://127.0.0.1:${port}/`, 2000);
    await until('httpd', async () => ((await page()) === 'hello-compose\n' ? true : undefined), 20_000);
    assert.equal(await page(), 'hello-compose\n');
    const ps = (await ok(['ps'])).stdout;
    assert.match(ps.split('\n')[0]!, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    assert.match(ps, new RegExp(`demo-web-1\\s.*\\sweb\\s.*127\\.0\\.0\\.1:${port}->80/tcp`));
    assert.match(ps, /demo-db-1\s.*\(healthy\)/);
    assert.equal((await ok(['ps', '--services'])).stdout, 'db\nweb\nworker\n');
    const psJson = (await ok(['ps', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Service: string; Project: string; State: string });
    assert.deepEqual(psJson.map((j) => [j.Service, j.Project, j.State]), [['db', 'demo', 'running'], ['web', 'demo', 'running'], ['worker', 'demo', 'running']]);
    // labels as Docker's: ps --filter label= of the plain CLI finds them
    const byLabel = await skiff(['ps', '--filter', 'label=com.docker.compose.service=web', '--format', '{{.Names}}'], { store });
    assert.equal(byLabel.stdout, 'demo-web-1\n');
    const logs = (await ok(['logs', 'worker', 'db'])).stdout;
    assert.match(logs, /^db-1\s+\| db-ready$/m);
    assert.match(logs, /^worker-1 \| worker-wrote$/m);
    assert.equal((await ok(['logs', '--no-log-prefix', 'worker'])).stdout, 'worker-wrote\n');
    assert.equal((await ok(['exec', '-T', 'worker', 'cat', '/data/log'])).stdout, 'one\n');
    const exec = await compose(['exec', '-T', 'db', 'sh', '-c', 'exit 3']);
    assert.equal(exec.code, 3);
    // run: a one-off container with the service's volume, removed with --rm
    assert.equal((await ok(['run', '--rm', '-T', '--no-deps', 'worker', 'cat', '/data/log'])).stdout, 'one\n');
    assert.equal(Object.keys(await ids()).length, 3);
    // the services reach each other by service name over demo_default (db fetches web's page; rootless
    // too: the project's network is in the rootless network namespace, web's port forwarded by its holder)
    // (as network.test.ts: the network's aardvark-dns may still be starting for the first lookups)
    const r = await ok(['exec', '-T', 'db', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/ 2>/dev/null && break; sleep 0.3; done']);
    assert.equal(r.stdout, 'hello-compose\n');
  });

  test('up again changes nothing; an edited environment recreates only that service', async () => {
    const before = await ids();
    const again = await ok(['up', '-d']);
    assert.ok(!/Recreate|Creating/.test(again.stderr), again.stderr);
    assert.deepEqual(await ids(), before);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), composeFile(image, port, 'two'));
    const changed = await ok(['up', '-d', '--wait']);
    assert.ok(changed.stderr.includes(' Container demo-worker-1 Recreated '), changed.stderr);
    const after = await ids();
    assert.equal(after['demo-web-1'], before['demo-web-1']);
    assert.equal(after['demo-db-1'], before['demo-db-1']);
    assert.notEqual(after['demo-worker-1'], before['demo-worker-1']);
    assert.equal((await ok(['exec', '-T', 'worker', 'cat', '/data/log'])).stdout, 'one\ntwo\n');
  });

  test('down keeps the volume, up finds its data, down -v removes it and leaves nothing', async () => {
    const down = await ok(['down', '-t', '1']);
    assert.ok(down.stderr.includes(' Container demo-web-1 Removed '), down.stderr);
    assert.equal((await skiff(['ps', '-aq'], { store })).stdout, '');
    assert.match((await skiff(['volume', 'ls', '-q'], { store })).stdout, /^demo_data$/m);
    await ok(['up', '-d', '--wait']);
    assert.equal((await ok(['exec', '-T', 'worker', 'cat', '/data/log'])).stdout, 'one\ntwo\ntwo\n');
    await ok(['down', '-v', '-t', '1']);
    assert.equal((await skiff(['ps', '-aq'], { store })).stdout, '');
    assert.doesNotMatch((await skiff(['volume', 'ls', '-q'], { store })).stdout, /demo_data/);
    assert.doesNotMatch((await skiff(['network', 'ls', '--format', '{{.Name}}'], { store })).stdout, /demo_default/);
  });

  test('errors: an unknown service, a failed up leaves nothing behind', async () => {
    const r = await compose(['up', '-d', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: no such service: nosuch\n');
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, `services:\n  ok:\n    image: ${image}\n    command: ["sleep", "1000"]\n  broken:\n    image: ${image}\n    command: ["sleep", "1000"]\n    user: nosuchuser\n    depends_on: [ok]\nvolumes: {}\n`);
    const f = await compose(['-f', bad, '-p', 'badproj', 'up', '-d']);
    assert.equal(f.code, 1, f.stderr);
    assert.equal((await skiff(['ps', '-aq'], { store })).stdout, '');
    assert.doesNotMatch((await skiff(['network', 'ls', '--format', '{{.Name}}'], { store })).stdout, /badproj/);
  });

  test('a project without published ports: the services reach each other by name (rootless too)', async () => {
    const f = path.join(dir, 'names.yaml');
    fs.writeFileSync(f, `services:\n  web:\n    image: ${image}\n    command: ["sh", "-c", "mkdir -p /w && echo by-service-name >/w/index.html && exec httpd -f -p 80 -h /w"]\n  client:\n    image: ${image}\n    command: ["sleep", "1000"]\n`);
    await ok(['-f', f, '-p', 'names', 'up', '-d']);
    const r = await ok(['-f', f, '-p', 'names', 'exec', '-T', 'client', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/ 2>/dev/null && break; sleep 0.3; done']);
    assert.equal(r.stdout, 'by-service-name\n');
    await ok(['-f', f, '-p', 'names', 'down', '-t', '0']);
    assert.equal((await skiff(['ps', '-aq'], { store })).stdout, '');
    assert.doesNotMatch((await skiff(['network', 'ls', '--format', '{{.Name}}'], { store })).stdout, /names_default/);
    // rootless: the rootless network namespace's holder goes with the last container in it
    const holder = (): string[] => processes((c) => c.includes(`netns ${path.join(store.runroot, 'netns')} `));
    await until('the holder gone', async () => (holder().length === 0 ? true : undefined), 15_000).catch(() => undefined);
    assert.deepEqual(holder(), []);
  });
});
