/**
 * The npm package `testcontainers` (11.x) against `skiff system service`: a busybox httpd with an
 * exposed port and the port wait strategy (which execs into the container), reached over its mapped
 * port, then stopped. Its reaper (Ryuk) is disabled, as its documentation allows; the image comes
 * from the local test registry. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { startService, type Service } from '../helpers/api-service.js';
import { fixtures, tempStore, type TempStore } from '../helpers/fixtures.js';
import { storeMounts, storeProcessesSettled } from '../helpers/leftovers.js';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('system service: testcontainers', () => {
  let store: TempStore;
  let svc: Service;

  before(async () => {
    store = await tempStore();
    svc = await startService(store);
    // testcontainers reads its configuration from the environment of this process; published ports
    // are on loopback (in a container, /.dockerenv, it would look for the bridge network's gateway)
    Object.assign(process.env, {
      DOCKER_HOST: `unix://${svc.sock}`, DOCKER_CONFIG: path.join(store.home, '.docker'), TESTCONTAINERS_RYUK_DISABLED: 'true',
      TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
    });
  });
  after(async () => {
    if (svc && svc.child.exitCode === null) svc.child.kill('SIGKILL');
    await store.cleanup();
  });

  test('a busybox httpd with an exposed port and the listening-ports wait strategy starts, answers and stops', async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer(fixtures().images.busybox.ref)
      .withCommand(['sh', '-c', 'mkdir -p /www && echo hello-from-testcontainers > /www/index.html && exec httpd -f -p 8080 -h /www'])
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    try {
      const r = await get(`http://${container.getHost()}:${container.getMappedPort(8080)}/`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hello-from-testcontainers\n');
      const ex = await container.exec(['cat', '/www/index.html']);
      assert.equal(ex.exitCode, 0);
      assert.equal(ex.output, 'hello-from-testcontainers\n');
    } finally {
      await container.stop();
    }
  });

  test('SIGTERM: the service exits and no container is left', async () => {
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0, svc.stderr());
    assert.deepEqual(await storeProcessesSettled(store), []);
    assert.deepEqual(storeMounts(store), []);
  });
});
