/**
 * `skiff compose up` side by side with Debian's podman-compose (1.0.3) for the same file: the same
 * services, volumes, networks, com.docker.compose.* labels, commands, environments and mounts.
 * podman-compose runs podman with a store of the test's own (--podman-args --root/--runroot); its
 * networks are podman's global ones, named after a project name unique to this run and removed after.
 * Differences on purpose: podman-compose 1.0.3 names containers PROJECT_SERVICE_N (Compose v1's
 * style), Docker Compose v2 and skiff PROJECT-SERVICE-N; its config_files label is relative.
 * Rootful only: rootless podman-compose would need the user's podman network setup (podmanSkip).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';
import { podmanSkip } from '../helpers/podman.js';

const composeMissing = spawnSync('podman-compose', ['version'], { encoding: 'utf8' }).error ? 'podman-compose is not installed' : false;
const skip = podmanSkip || composeMissing;

interface Inspected {
  Name: string;
  Config: { Labels: Record<string, string> | null; Env: string[] | null; Cmd: string[] | null };
  Mounts: { Type: string; Name?: string; Destination: string }[];
  NetworkSettings: { Networks: Record<string, unknown> | null };
}

/** What the comparison looks at, per service: labels compose defines, command, the file's environment, volumes, networks. */
function summary(c: Inspected): Record<string, unknown> {
  const labels = c.Config.Labels ?? {};
  const keep = ['com.docker.compose.project', 'com.docker.compose.service', 'com.docker.compose.container-number', 'com.docker.compose.project.working_dir'];
  return {
    labels: Object.fromEntries(keep.map((k) => [k, labels[k]])),
    cmd: c.Config.Cmd,
    env: (c.Config.Env ?? []).filter((e) => e.startsWith('GREETING=')),
    volumes: c.Mounts.filter((m) => m.Type === 'volume').map((m) => `${m.Name}:${m.Destination}`).sort(),
    networks: Object.keys(c.NetworkSettings.Networks ?? {}).sort(),
  };
}

describe('compose side by side with podman-compose', { skip }, () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  const project = `skcmp${process.pid}`;
  const podmanStore = (): string[] => ['--root', path.join(dir, 'podman-root'), '--runroot', path.join(dir, 'podman-run')];
  const podman = (args: string[]): string => execFileSync('podman', [...podmanStore(), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const podmanCompose = (args: string[]) => spawnSync('podman-compose', ['--podman-args', podmanStore().join(' '), '-p', project, ...args], { cwd: dir, encoding: 'utf8' });

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    store.env.SKIFF_ADDRESS_POOLS = '10.219.0.0/16/24';
    dir = fs.mkdtempSync(path.join(store.home, 'peer-'));
    fs.writeFileSync(
      path.join(dir, 'compose.yaml'),
      `services:
  db:
    image: ${image}
    command: ["sleep", "1000"]
    volumes: [data:/data]
  web:
    image: ${image}
    command: ["sh", "-c", "exec sleep 1000"]
    environment:
      GREETING: hello
    depends_on: [db]
volumes:
  data:
`,
    );
    podman(['pull', '-q', '--tls-verify=false', image]);
  });
  after(async () => {
    podmanCompose(['down', '-v', '-t', '0']);
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`]);
    spawnSync('podman', [...podmanStore(), 'system', 'reset', '--force']);
    // containers/storage bind-mounts its overlay directory onto itself, and `system reset` leaves that mount
    const left = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => dir && m.startsWith(`${dir}/`));
    for (const m of left.reverse()) spawnSync('umount', [m]);
    await skiff(['compose', '-p', project, 'down', '-v', '-t', '0'], { store, cwd: dir });
    await store.cleanup();
  });

  test('up -d makes the same containers, labels, volumes and networks', async () => {
    const pc = podmanCompose(['up', '-d']);
    assert.equal(pc.status, 0, `podman-compose up: ${pc.stderr}`);
    const sk = await skiff(['compose', '-p', project, 'up', '-d'], { store, cwd: dir });
    assert.equal(sk.code, 0, sk.stderr);

    const podmanIds = podman(['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`]).trim().split('\n').filter(Boolean);
    const theirs = JSON.parse(podman(['inspect', ...podmanIds])) as Inspected[];
    const skiffIds = (await skiff(['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`], { store })).stdout.trim().split('\n').filter(Boolean);
    const ours = JSON.parse((await skiff(['inspect', ...skiffIds], { store })).stdout) as Inspected[];

    const byService = (list: Inspected[]) => Object.fromEntries(list.map((c) => [c.Config.Labels?.['com.docker.compose.service'] ?? '?', c] as const));
    const t = byService(theirs);
    const o = byService(ours);
    assert.deepEqual(Object.keys(o).sort(), ['db', 'web']);
    assert.deepEqual(Object.keys(t).sort(), Object.keys(o).sort());
    for (const s of ['db', 'web']) {
      assert.deepEqual(summary(o[s]!), summary(t[s]!), `service ${s}`);
      // names: Docker Compose v2's PROJECT-SERVICE-N; podman-compose 1.0.3 keeps v1's underscores
      assert.equal(o[s]!.Name.replace(/^\//, ''), `${project}-${s}-1`);
      assert.equal(t[s]!.Name.replace(/^\//, ''), `${project}_${s}_1`);
    }
    // volumes and networks: the same names, both labelled with the project
    const theirVolumes = podman(['volume', 'ls', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Name}}']).trim();
    const ourVolumes = (await skiff(['volume', 'ls', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Name}}'], { store })).stdout.trim();
    assert.equal(ourVolumes, `${project}_data`);
    assert.equal(ourVolumes, theirVolumes);
    const theirNetworks = podman(['network', 'ls', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Name}}']).trim();
    const ourNetworks = (await skiff(['network', 'ls', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Name}}'], { store })).stdout.trim();
    assert.equal(ourNetworks, `${project}_default`);
    assert.equal(ourNetworks, theirNetworks);
  });
});
