import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  loadProject, configYaml, configJson, serviceNames, volumeNames, profileNames, serviceConfigHash, containerName, type Project,
} from '../../src/compose/index.js';
import { conformanceDir, throwsMsg } from '../helpers/conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-model-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function project(yaml: string, env: Record<string, string> = {}, more: string[] = [], profiles?: string[], extra: Record<string, string> = {}): Project {
  const d = fs.mkdtempSync(path.join(tmp, 'p-'));
  for (const [f, text] of Object.entries(extra)) fs.writeFileSync(path.join(d, f), text);
  fs.writeFileSync(path.join(d, 'compose.yaml'), yaml);
  const files = [path.join(d, 'compose.yaml')];
  more.forEach((m, i) => {
    fs.writeFileSync(path.join(d, `o${i}.yaml`), m);
    files.push(path.join(d, `o${i}.yaml`));
  });
  return loadProject({ files, env: { HOME: '/home/u', ...env }, projectName: 'app', ...(profiles ? { profiles } : {}) });
}

test('ports: short and long syntax, ranges, IPs, protocols', () => {
  const p = project(`services:
  web:
    image: x
    ports:
      - 80
      - "8080:80"
      - "127.0.0.1:53:53/udp"
      - "[::1]:9000:9000"
      - "9090-9091:90-91"
      - "7000-7010:70"
      - target: 443
        published: 8443
        host_ip: 0.0.0.0
        protocol: tcp
`);
  assert.deepEqual(p.services.web!.ports, [
    { mode: 'ingress', hostIp: '', target: 80, protocol: 'tcp' },
    { mode: 'ingress', hostIp: '', target: 80, published: '8080', protocol: 'tcp' },
    { mode: 'ingress', hostIp: '127.0.0.1', target: 53, published: '53', protocol: 'udp' },
    { mode: 'ingress', hostIp: '::1', target: 9000, published: '9000', protocol: 'tcp' },
    { mode: 'ingress', hostIp: '', target: 90, published: '9090', protocol: 'tcp' },
    { mode: 'ingress', hostIp: '', target: 91, published: '9091', protocol: 'tcp' },
    { mode: 'ingress', hostIp: '', target: 70, published: '7000-7010', protocol: 'tcp' },
    { mode: 'ingress', hostIp: '0.0.0.0', target: 443, published: '8443', protocol: 'tcp' },
  ]);
  throwsMsg(() => project('services:\n  w:\n    image: x\n    ports: ["80:abc"]\n'), /invalid containerPort port "abc"/);
  throwsMsg(() => project('services:\n  w:\n    image: x\n    ports: ["1-3:1-2"]\n'), /invalid ranges specified/);
});

test('volumes: bind, named, anonymous, tmpfs; relative and ~ paths', () => {
  const p = project(`services:
  s:
    image: x
    volumes:
      - ./data:/data:ro
      - ~/cache:/cache
      - db:/var/lib/db:nocopy
      - /anon/
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m}
      - type: bind
        source: rel
        target: /rel
        bind: {create_host_path: false}
volumes:
  db: {}
  ext: {external: true}
  named: {name: custom}
`);
  const dir = p.workingDir;
  assert.deepEqual(p.services.s!.volumes, [
    { type: 'bind', source: path.join(dir, 'data'), target: '/data', readOnly: true, bind: { createHostPath: true } },
    { type: 'bind', source: path.join(process.env.HOME || os.homedir(), 'cache'), target: '/cache', readOnly: false, bind: { createHostPath: true } },
    { type: 'volume', source: 'db', target: '/var/lib/db', readOnly: false, volume: { nocopy: true } },
    { type: 'volume', target: '/anon', readOnly: false, volume: { nocopy: false } },
    { type: 'tmpfs', target: '/tmp', readOnly: false, tmpfs: { size: 64 * 1024 * 1024 } },
    { type: 'bind', source: path.join(dir, 'rel'), target: '/rel', readOnly: false, bind: { createHostPath: false } },
  ]);
  assert.equal(p.volumes.db!.name, 'app_db');
  assert.equal(p.volumes.ext!.name, 'ext');
  assert.equal(p.volumes.named!.name, 'custom');
  throwsMsg(() => project('services:\n  s:\n    image: x\n    volumes: ["nope:/x"]\n'), /service "s" refers to undefined volume nope/);
  throwsMsg(() => project('services:\n  s:\n    image: x\n    tmpfs: /x\n    volumes: ["/x"]\n'), /services\.s\.volumes\[0\]: target \/x already mounted as services\.s\.tmpfs\[0\]/);
});

test('environment (map and list), env_file with required: false, interpolation', () => {
  const p = project(`services:
  s:
    image: x
    env_file:
      - a.env
      - path: missing.env
        required: false
    environment:
      - FROM_LIST=1
      - FROM_PROCESS
      - UNSET
      - OVER=env
  m:
    image: x
    environment:
      K: \${HOST_VAR:-def}
      N: 3
`, { FROM_PROCESS: 'p' }, [], undefined, { 'a.env': 'OVER=file\nFILE_ONLY=yes\n' });
  const q = p; // a.env is read relative to the project directory
  assert.deepEqual(q.services.s!.environment, { OVER: 'env', FILE_ONLY: 'yes', FROM_LIST: '1', FROM_PROCESS: 'p', UNSET: null });
  assert.deepEqual(q.services.m!.environment, { K: 'def', N: '3' });
  fs.rmSync(path.join(p.workingDir, 'a.env'));
  throwsMsg(() => loadProject({ files: p.composeFiles, env: {}, projectName: 'app' }), /^env file .*a\.env not found/);
});

test('env_file files: later wins, environment wins over both (compose-go fixtures)', { skip: conformanceDir('compose', 'compose-go/loader/example1.env').skip }, () => {
  const { dir } = conformanceDir('compose', 'compose-go');
  const l = path.join(dir, 'compose-go/loader');
  const t = path.join(dir, 'compose-go/types/fixtures');
  const p = loadProject({
    files: ['-'],
    cwd: l,
    env: {},
    readStdin: () => `name: t\nservices:\n  s:\n    image: x\n    env_file: [example1.env, {path: example2.env}]\n    environment: {BAZ: baz_from_service}\n    label_file: [example1.label, example2.label]\n    labels: {BAZ: baz_from_labels}\n  f:\n    image: x\n    env_file: [${t}/base.env, ${t}/override.env]\n`,
  });
  assert.equal(p.services.s!.environment.BAR, 'bar_from_env_file_2');
  assert.equal(p.services.s!.environment.FOO, 'foo_from_env_file');
  assert.equal(p.services.s!.environment.BAZ, 'baz_from_service');
  assert.equal(p.services.s!.environment['ENV.WITH.DOT'], 'ok');
  assert.deepEqual(p.services.s!.labels, {
    FOO: 'foo_from_label_file', 'LABEL.WITH.DOT': 'ok', LABEL_WITH_UNDERSCORE: 'ok', BAR: 'bar_from_label_file_2', BAZ: 'baz_from_labels', QUX: 'quz_from_label_file_2',
  });
  const f = p.services.f!.environment;
  assert.equal(f.FOO, 'foo_from_override.env');
  assert.equal(f.INTERPOLATED_FOO, 'foo_from_override.env');
  assert.equal(f.ZOT, 'zot_from_base.env');
});

test('depends_on: list and long form, unknown and inactive services', () => {
  const p = project(`services:
  web:
    image: x
    depends_on:
      db: {condition: service_healthy, restart: true}
      cache: {condition: service_started, required: false}
      worker:
        condition: service_completed_successfully
  db: {image: x}
  worker: {image: x, depends_on: [db]}
`);
  assert.deepEqual(p.services.web!.dependsOn, {
    db: { condition: 'service_healthy', restart: true, required: true },
    worker: { condition: 'service_completed_successfully', restart: false, required: true },
  });
  assert.deepEqual(p.services.worker!.dependsOn, { db: { condition: 'service_started', restart: false, required: true } });
  assert.deepEqual(serviceNames(p), ['db', 'worker', 'web']);
  throwsMsg(() => project('services:\n  a: {image: x, depends_on: [b]}\n'), /^service "a" depends on undefined service "b": invalid compose project$/);
  throwsMsg(() => project('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, profiles: [dev]}\n'), /^service "b" is required by "a" but is disabled\. Can be enabled by profiles \[dev\]$/);
  const withDev = project('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, profiles: [dev]}\n', {}, [], ['dev']);
  assert.deepEqual(Object.keys(withDev.services), ['a', 'b']);
  // the edge that would close a cycle belongs to an inactive service
  const nocycle = project('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: {c: {condition: service_started, required: false}}}\n  c: {image: x, depends_on: [a], profiles: [off]}\n');
  assert.deepEqual(Object.keys(nocycle.services), ['a', 'b']);
  assert.deepEqual(nocycle.services.b!.dependsOn, {});
  throwsMsg(() => project('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n'), /^dependency cycle detected: a -> b -> a$/);
});

test('healthcheck, deploy, limits, ulimits, networks, network_mode, secrets and configs', () => {
  const p = project(`services:
  s:
    image: x
    command: echo "a b"
    healthcheck:
      test: curl -f http://localhost
      interval: 1m30s
      timeout: 500ms
      retries: 3
    stop_grace_period: 20s
    deploy:
      replicas: 2
      resources: {limits: {memory: 512m, cpus: "0.5", pids: 100}}
    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}
    networks:
      front:
        aliases: [web, www]
        ipv4_address: 172.20.0.5
    secrets: [token, {source: cert, target: /etc/cert, mode: 0400}]
    configs: [conf]
  t:
    image: x
    mem_limit: 1g
    cpus: 1.5
    network_mode: "service:s"
networks:
  front:
    ipam: {config: [{subnet: 172.20.0.0/16}]}
secrets:
  token: {file: ./token.txt}
  cert: {environment: CERT}
configs:
  conf: {file: /etc/hosts}
`);
  const s = p.services.s!;
  assert.deepEqual(s.command, ['echo', 'a b']);
  assert.deepEqual(s.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'], interval: 90_000, timeout: 500, retries: 3, disable: false });
  assert.equal(s.stopGracePeriod, 20_000);
  assert.equal(s.replicas, 2);
  assert.deepEqual(s.limits, { memory: 512 * 1024 * 1024, cpus: 0.5, pids: 100 });
  assert.deepEqual(s.ulimits, { nproc: { soft: 65535, hard: 65535 }, nofile: { soft: 20000, hard: 40000 } });
  assert.deepEqual(s.networks, { front: { aliases: ['web', 'www'], ipv4Address: '172.20.0.5' } });
  assert.deepEqual(s.secrets, [{ source: 'token', target: '/run/secrets/token' }, { source: 'cert', target: '/etc/cert', mode: 0o400 }]);
  assert.deepEqual(s.configs, [{ source: 'conf', target: '/conf' }]);
  assert.equal(p.secrets.token!.file, path.join(p.workingDir, 'token.txt'));
  assert.equal(p.secrets.token!.name, 'app_token');
  assert.equal(p.networks.front!.name, 'app_front');
  assert.deepEqual(p.networks.front!.ipam, { config: [{ subnet: '172.20.0.0/16' }] });
  const t = p.services.t!;
  assert.equal(t.networkMode, 'service:s');
  assert.deepEqual(t.networks, {});
  assert.deepEqual(t.dependsOn, { s: { condition: 'service_started', restart: true, required: true } });
  assert.deepEqual(t.limits, { memory: 1024 ** 3, cpus: 1.5 });
  assert.equal(p.networks.default, undefined, 'no service joins the default network');
  throwsMsg(() => project('services:\n  s: {image: x, healthcheck: {interval: soon}}\n'), /services\.s\.healthcheck\.interval: invalid duration "soon"/);
  throwsMsg(() => project('services:\n  s: {image: x, container_name: cc, deploy: {replicas: 2}}\n'), /can't set container_name and deploy\.replicas/);
  throwsMsg(() => project('services:\n  s: {build: {}, image: x, networks: [nope]}\n'), /refers to undefined network nope/);
  throwsMsg(() => project('services:\n  s: {environment: {A: 1}}\n'), /service "s" has neither an image nor a build context specified/);
});

test('the default network, container names, build defaults', () => {
  const p = project('services:\n  web: {image: x}\n  b: {build: ./src}\n');
  assert.deepEqual(p.services.web!.networks, { default: { aliases: [] } });
  assert.equal(p.networks.default!.name, 'app_default');
  assert.equal(containerName(p.name, p.services.web!, 1), 'app-web-1');
  assert.equal(containerName(p.name, { name: 'x', containerName: 'mine' }, 3), 'mine');
  assert.equal(p.services.b!.build!.context, path.join(p.workingDir, 'src'));
  assert.equal(p.services.b!.build!.dockerfile, 'Dockerfile');
});

test('override files: command replaced, environment and ports merged, !reset and !override', () => {
  const p = project(
    'services:\n  s:\n    image: x\n    command: [a, b]\n    environment: {A: "1", B: "2"}\n    ports: ["80:80"]\n    labels: [x=1]\n    dns: 1.1.1.1\n',
    {},
    ['services:\n  s:\n    command: c\n    environment: [B=3, C=4]\n    ports: ["80:80", "81:81"]\n    labels: {y: "2"}\n    dns: !reset []\n',
      'services:\n  s:\n    ports: !override ["90:90"]\n'],
  );
  const s = p.services.s!;
  assert.deepEqual(s.command, ['c']);
  assert.deepEqual(s.environment, { A: '1', B: '3', C: '4' });
  assert.deepEqual(s.ports.map((x) => x.published), ['90']);
  assert.deepEqual(s.labels, { x: '1', y: '2' });
  assert.deepEqual(s.dns, []);
  const q = project('services:\n  s:\n    image: x\n    ports: ["80:80"]\n', {}, ['services:\n  s:\n    ports: ["80:80", "81:81"]\n']);
  assert.deepEqual(q.services.s!.ports.map((x) => x.published), ['80', '81']);
});

test('interpolation errors and warnings name the file, path and line', () => {
  throwsMsg(() => project('services:\n  s:\n    image: ${IMG:?image needed}\n'), /compose\.yaml: error while interpolating services\.s\.image \(line 3\): required variable IMG is missing a value: image needed$/);
  throwsMsg(() => project('services:\n  s:\n    image: "${"\n'), /invalid interpolation format for services\.s\.image \(line 3\): Invalid template: "\$\{"/);
  throwsMsg(() => project('services:\n  s:\n    image: x\n    deploy: {replicas: "${N}"}\n', { N: 'many' }), /services\.s\.deploy\.replicas \(line 4\): failed to cast to expected type/);
  const p = project('services:\n  s:\n    image: x${TAG}\n    labels: {"$$KEY": v}\n    ports: ["${P}:80"]\n    read_only: "${RO}"\n', { P: '8080', RO: 'true' });
  assert.equal(p.services.s!.image, 'x');
  assert.deepEqual(p.services.s!.labels, { $$KEY: 'v' }, 'keys are not interpolated');
  assert.equal(p.services.s!.ports[0]!.published, '8080');
  assert.equal(p.services.s!.readOnly, true);
  assert.deepEqual(p.warnings.map((w) => w.message), ['The "TAG" variable is not set. Defaulting to a blank string.']);
});

test('unsupported keys are warnings that name them', () => {
  const p = project('services:\n  s:\n    image: x\n    cpu_shares: 2\n    deploy: {placement: {constraints: [a]}, resources: {reservations: {cpus: "1"}}}\n    x-mine: 1\n');
  assert.deepEqual(p.services.s!.unsupported, ['cpu_shares', 'deploy.placement', 'deploy.resources.reservations']);
  assert.ok(p.warnings.some((w) => w.message === 'service "s": cpu_shares is not supported by skiff and will be ignored'));
});

test('config output: Docker shape, JSON, queries', () => {
  const p = project(
    'x-top: 1\nservices:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n    environment: [A=1]\n    healthcheck: {test: [CMD, "true"], interval: 90s}\n    depends_on: [db]\n    mem_limit: 1g\n  db:\n    image: pg\n    volumes: [data:/var/lib/pg]\n    profiles: [x]\n  tool: {image: t, profiles: [tools]}\nvolumes:\n  data: {}\n',
    {},
    [],
    ['x'],
  );
  assert.equal(
    configYaml(p),
    `name: app
services:
  db:
    profiles:
      - x
    image: pg
    networks:
      default: null
    volumes:
      - type: volume
        source: data
        target: /var/lib/pg
        volume: {}
  web:
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      A: "1"
    healthcheck:
      test:
        - CMD
        - "true"
      interval: 1m30s
    image: nginx
    mem_limit: "1073741824"
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
networks:
  default:
    name: app_default
volumes:
  data:
    name: app_data
x-top: 1
`,
  );
  assert.equal(JSON.parse(configJson(p)).services.web.ports[0].published, '8080');
  assert.deepEqual(serviceNames(p), ['db', 'web']);
  assert.deepEqual(volumeNames(p), ['data']);
  assert.deepEqual(profileNames(p), ['tools', 'x']);
});

test('config hash: stable across key order and dependencies, changes with the config', () => {
  const a = project('services:\n  s:\n    image: x\n    environment: {A: "1", B: "2"}\n    depends_on: [d]\n  d: {image: y}\n');
  const b = project('services:\n  d: {image: y}\n  s:\n    environment: {B: "2", A: "1"}\n    image: x\n');
  const c = project('services:\n  s:\n    image: x\n    environment: {A: "1", B: "3"}\n');
  assert.match(serviceConfigHash(a.services.s!), /^[0-9a-f]{64}$/);
  assert.equal(serviceConfigHash(a.services.s!), serviceConfigHash(b.services.s!));
  assert.notEqual(serviceConfigHash(a.services.s!), serviceConfigHash(c.services.s!));
  assert.equal(serviceConfigHash(a.services.d!), serviceConfigHash(b.services.d!));
});

test('the YAML writer reads back as the same value', async () => {
  const { toYaml } = await import('../../src/compose/serialize.js');
  const { parse } = await import('yaml');
  const value = {
    a: '1', b: 'true', c: 'x: y', d: '-x', e: '', f: 'a b', g: 'line1\nline2\n', h: 'l1\nl2', i: [{ x: 1, y: [1, 2] }, [3, [4]], {}],
    j: {}, k: [], l: null, m: '~', n: '#x', o: 'http://x', p: 'a #b', q: ' lead', r: '0x1F', s: '.5', t: 'x\u00e8', 'we ird:': 1, w: 'ON', v: '1.2.3',
    u: 'tab\there', dur: '1m30s', num: '1_000', sexa: '1:30', exp: '1e5', date: '2001-12-14', ver: '1.2.3', z: { 'nested key': { deep: ['a', 'b'] } }, nl: 'trailing\n\n', ctl: 'a\u0001b',
  };
  assert.deepEqual(parse(toYaml(value as unknown as Parameters<typeof toYaml>[0])), value);
});

test('extends cycles, missing bases; include overridden by the including file', () => {
  throwsMsg(() => project('services:\n  a: {image: x, extends: b}\n  b: {extends: a}\n'), /^Circular reference: a in .*compose\.yaml, extends b in .*, extends a in /);
  throwsMsg(() => project('services:\n  a: {image: x, extends: nope}\n'), /^cannot extend service "a" in .*compose\.yaml: service "nope" not found$/);
  const p = project('include: [inc.yaml]\nservices:\n  imported:\n    image: overridden\n    environment: !override {ONLY: "1"}\n', {}, [], undefined, {
    'inc.yaml': 'services:\n  imported:\n    image: base\n    environment: {A: "1"}\n    volumes: [./d:/d]\n',
  });
  assert.equal(p.services.imported!.image, 'overridden');
  assert.deepEqual(p.services.imported!.environment, { ONLY: '1' });
  assert.equal(p.services.imported!.volumes[0]!.source, path.join(p.workingDir, 'd'));
});
