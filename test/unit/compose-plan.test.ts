/**
 * The compose planner (src/compose/engine/plan.ts) and the service → create options conversion
 * (convert.ts): pure functions over a loaded project and the containers it has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, serviceConfigHash, type Project } from '../../src/compose/index.js';
import { dependencyOrder, planUp, selectServices, stopOrder, withDependents } from '../../src/compose/engine/plan.js';
import { createOptionsFor, publishText } from '../../src/compose/engine/convert.js';
import type { Existing } from '../../src/compose/engine/labels.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-plan-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function project(yaml: string): Project {
  const d = fs.mkdtempSync(path.join(tmp, 'p-'));
  fs.writeFileSync(path.join(d, 'compose.yaml'), yaml);
  return loadProject({ files: [path.join(d, 'compose.yaml')], env: {}, projectName: 'p' });
}

const APP = `services:
  web:
    image: busybox
    depends_on: [api]
    ports: ["127.0.0.1:8080:80"]
  api:
    image: busybox
    depends_on:
      db: {condition: service_healthy}
  db:
    image: busybox
    environment: {A: "1"}
    volumes: [data:/data]
  cache:
    image: busybox
    deploy: {replicas: 2}
volumes:
  data:
`;

function existing(p: Project, service: string, number: number, over: Partial<Existing> = {}): Existing {
  return {
    id: `${service}${number}`, name: `p-${service}-${number}`, service, number, hash: p.services[service] ? serviceConfigHash(p.services[service]) : 'gone', imageId: 'sha256:img',
    oneoff: false, running: true, status: 'running', health: '', exitCode: 0, created: '2026-01-01T00:00:00Z', ...over,
  };
}

test('dependency order: dependencies first; a named service brings its dependencies unless --no-deps', () => {
  const p = project(APP);
  const order = dependencyOrder(p, Object.keys(p.services));
  assert.ok(order.indexOf('db') < order.indexOf('api') && order.indexOf('api') < order.indexOf('web'), order.join(','));
  assert.deepEqual(selectServices(p, ['web']), ['db', 'api', 'web']);
  assert.deepEqual(selectServices(p, ['web'], true), ['web']);
  assert.throws(() => selectServices(p, ['nope']), /: no such service: nope$/);
});

test('restart\'s selection: the named services and those depending on them (transitively); --no-deps: the named only', () => {
  const p = project(APP);
  assert.deepEqual(withDependents(p, ['db']), ['db', 'api', 'web']);
  assert.deepEqual(withDependents(p, ['api']), ['api', 'web']);
  assert.deepEqual(withDependents(p, ['db'], true), ['db']);
  assert.deepEqual(withDependents(p, ['cache']), ['cache']);
  assert.deepEqual(withDependents(p, []).sort(), ['api', 'cache', 'db', 'web']);
  assert.throws(() => withDependents(p, ['nope']), /: no such service: nope$/);
});

test('a fresh project: every container created, numbered from 1, replicas honoured', () => {
  const p = project(APP);
  const plan = planUp(p, []);
  assert.deepEqual(plan.services.cache!.actions, [
    { kind: 'create', service: 'cache', number: 1, name: 'p-cache-1' },
    { kind: 'create', service: 'cache', number: 2, name: 'p-cache-2' },
  ]);
  assert.deepEqual(plan.services.web!.actions, [{ kind: 'create', service: 'web', number: 1, name: 'p-web-1' }]);
  assert.deepEqual(plan.orphans, []);
});

test('unchanged: nothing recreated; stopped ones started; a changed hash or image recreates that service only', () => {
  const p = project(APP);
  const all = ['web', 'api', 'db'].map((s) => existing(p, s, 1)).concat([existing(p, 'cache', 1), existing(p, 'cache', 2, { running: false, status: 'exited' })]);
  const same = planUp(p, all);
  for (const s of ['web', 'api', 'db']) assert.deepEqual(same.services[s]!.actions.map((a) => a.kind), ['running']);
  assert.deepEqual(same.services.cache!.actions.map((a) => a.kind), ['running', 'start']);
  const changed = planUp(p, all.map((c) => (c.service === 'db' ? { ...c, hash: 'old' } : c)));
  assert.deepEqual(Object.entries(changed.services).filter(([, s]) => s.actions.some((a) => a.kind === 'recreate')).map(([n]) => n), ['db']);
  const image = planUp(p, all, { imageIds: { api: 'sha256:new' } });
  assert.deepEqual(image.services.api!.actions.map((a) => a.kind), ['recreate']);
  assert.deepEqual(planUp(p, all, { forceRecreate: true }).services.web!.actions.map((a) => a.kind), ['recreate']);
  assert.deepEqual(planUp(p, all.map((c) => ({ ...c, hash: 'old' })), { noRecreate: true }).services.db!.actions.map((a) => a.kind), ['running']);
});

test('--scale: extra containers removed (highest first), missing ones get the next numbers; orphans found', () => {
  const p = project(APP);
  const cache = [existing(p, 'cache', 1), existing(p, 'cache', 2), existing(p, 'cache', 3)];
  const down = planUp(p, cache, { services: ['cache'], scale: { cache: 1 } });
  assert.deepEqual(down.services.cache!.actions.map((a) => [a.kind, 'container' in a ? a.container.number : a.number]), [['running', 1], ['remove', 2], ['remove', 3]]);
  const upScale = planUp(p, cache.slice(0, 1), { services: ['cache'], scale: { cache: 3 } });
  assert.deepEqual(upScale.services.cache!.actions.map((a) => [a.kind, 'container' in a ? a.container.number : a.number]), [['running', 1], ['create', 2], ['create', 3]]);
  const orphan = existing(p, 'gone', 1, { hash: 'x' });
  assert.deepEqual(planUp(p, [orphan]).orphans, [orphan]);
  // one-off containers are neither planned nor orphans
  assert.deepEqual(planUp(p, [{ ...orphan, oneoff: true }]).orphans, []);
});

test('stop order: orphans, then dependents before their dependencies', () => {
  const p = project(APP);
  const groups = stopOrder(p, [existing(p, 'db', 1), existing(p, 'web', 1), existing(p, 'api', 1), existing(p, 'gone', 1)]);
  const flat = groups.map((g) => g.map((c) => c.service).join('+'));
  assert.equal(flat[0], 'gone');
  assert.ok(flat.indexOf('web') < flat.indexOf('api') && flat.indexOf('api') < flat.indexOf('db'), flat.join(','));
});

test('convert: labels, names of networks and volumes, ports, healthcheck', () => {
  const p = project(`services:
  db:
    image: busybox
    command: ["sleep", "1"]
    environment: {A: "1"}
    volumes: [data:/data, ./here:/here:ro]
    ports: ["127.0.0.1:8080:80", "9000"]
    healthcheck: {test: ["CMD", "true"], interval: 2s, retries: 3}
    networks: {back: {aliases: [database]}}
networks: {back: {}}
volumes: {data: {}}
`);
  const s = p.services.db!;
  const { options, warnings } = createOptionsFor(p, s, { name: 'p-db-1', number: 1, hash: 'h' }, {});
  assert.deepEqual(warnings, []);
  assert.equal(options.name, 'p-db-1');
  assert.deepEqual(options.command, ['sleep', '1']);
  assert.ok(options.env.includes('A=1'));
  assert.deepEqual(options.network, ['p_back']);
  assert.deepEqual(options.aliases, ['db', 'database']);
  assert.deepEqual(options.publish, ['127.0.0.1:8080:80/tcp', '9000/tcp']);
  assert.deepEqual(options.mounts, ['type=volume,source=p_data,target=/data']);
  assert.deepEqual(options.volumes, [`${p.workingDir}/here:/here:ro`]);
  assert.deepEqual(options.health, { none: false, test: ['CMD', 'true'], interval: '2000ms', retries: 3 });
  for (const l of ['com.docker.compose.project=p', 'com.docker.compose.service=db', 'com.docker.compose.container-number=1', 'com.docker.compose.config-hash=h', 'com.docker.compose.oneoff=False']) {
    assert.ok(options.labels.includes(l), l);
  }
  assert.equal(publishText({ mode: 'ingress', hostIp: '', target: 80, protocol: 'udp', published: '8000-8001' }), '8000-8001:80/udp');
});
