import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generateFromContainers, generateFromCompose, readKubeYaml, type GenerateResult } from '../../src/kube/index.js';
import { loadProject } from '../../src/compose/index.js';
import { SkiffError } from '../../src/errors.js';
import { hostPathVolumeName } from '../../src/kube/names.js';
import { BUSYBOX, KUBE_FIXTURES, kubectlDecodeErrors, kubectlSkip, kubectlTyped, leaves, record } from '../helpers/kube.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-generate-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** The checked-in expectation (SKIFF_KUBE_UPDATE_FIXTURES=1 rewrites it: review the diff). */
function expectYaml(name: string, text: string): void {
  const file = path.join(KUBE_FIXTURES, name);
  if (process.env.SKIFF_KUBE_UPDATE_FIXTURES === '1') fs.writeFileSync(file, text);
  assert.equal(text, fs.readFileSync(file, 'utf8'), `${name} differs from the checked-in expectation`);
}

/** What a cluster would also check: our own reader validates it, and kubectl (offline) decodes it and keeps every field. */
function checkAccepted(r: GenerateResult, name: string): void {
  const back = readKubeYaml(r.yaml, name);
  assert.deepEqual(back.problems, []);
  assert.equal(back.documents.length, r.objects.length);
  if (kubectlSkip()) return;
  const file = path.join(tmp, name);
  fs.writeFileSync(file, r.yaml);
  assert.equal(kubectlDecodeErrors(file), '', `kubectl cannot decode ${name}`);
  for (const doc of parseAllDocuments(r.yaml)) {
    const obj = doc.toJS() as { kind: string };
    if (obj.kind !== 'Pod' && obj.kind !== 'Deployment') continue;
    const typed = leaves(kubectlTyped(doc.toString()));
    for (const [p, v] of leaves(obj)) assert.deepEqual(typed.get(p), v, `${name}: kubectl's typed ${obj.kind} lost or changed ${p}`);
  }
}

const web = record('web', {
  Path: '/bin/sh',
  Args: ['-c', 'httpd -f -p 80'],
  Config: {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=bar', 'SP=a b', 'HOSTNAME=77656278', 'HOME=/root'],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['httpd -f -p 80'],
    User: '1000:1000',
    WorkingDir: '/srv',
    Labels: { tier: 'front', 'com.example/path': '/x/y' },
    StopSignal: 'SIGQUIT',
    StopTimeout: 20,
    Healthcheck: { Test: ['CMD-SHELL', 'wget -q -O- localhost'], Interval: 15e9, Timeout: 3e9, StartPeriod: 2.5e9, Retries: 4 },
    ExposedPorts: { '80/tcp': {}, '90/udp': {} },
  },
  HostConfig: {
    CapAdd: ['NET_ADMIN'],
    CapDrop: ['CAP_CHOWN'],
    ReadonlyRootfs: true,
    Init: true,
    Tmpfs: { '/run/t': 'size=64m' },
    RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
    PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '90/udp': [{ HostIp: '127.0.0.1', HostPort: '9090' }] },
    Memory: 64 * 1024 * 1024,
    NanoCpus: 1.5e9,
  },
  Mounts: [
    { Type: 'volume', Name: 'data', Driver: 'local', Source: '/var/lib/skiff/volumes/data/_data', Destination: '/data', Mode: '', RW: true, Propagation: '' },
    { Type: 'bind', Source: '/srv/www', Destination: '/www', Mode: 'ro', RW: false, Propagation: 'rprivate' },
  ],
});

const plain = record('sleeper', { Path: 'sleep', Args: ['1000'], Config: { Cmd: ['sleep', '1000'] } });

const odd = record('Odd_Name.1', {
  Config: {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'HOME=/home/app', 'MODE=dev'],
    User: 'app',
    Tty: true,
    OpenStdin: true,
    Entrypoint: null,
    Cmd: ['/app/run', '--port', '9000'],
    Hostname: 'odd-host',
  },
  HostConfig: {
    Privileged: false,
    SecurityOpt: ['no-new-privileges'],
    RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
    AutoRemove: false,
    PortBindings: { '9000/tcp': [{ HostIp: '', HostPort: '' }] },
    MemoryReservation: 32 * 1024 * 1024,
    CpuShares: 512,
    PidsLimit: 100,
  },
  Mounts: [
    { Type: 'volume', Name: 'a'.repeat(64), Driver: 'local', Source: '/x', Destination: '/cache', Mode: '', RW: true, Propagation: '' },
    { Type: 'volume', Name: 'my_data', Driver: 'local', Source: '/y', Destination: '/data', Mode: 'ro', RW: false, Propagation: '' },
  ],
});

test('generate: container records → the checked-in Pods, accepted by the schema and by kubectl', () => {
  const r = generateFromContainers([{ record: web }, { record: plain, image: BUSYBOX }, { record: odd }]);
  expectYaml('containers.yaml', r.yaml);
  checkAccepted(r, 'containers.yaml');
  assert.deepEqual(r.warnings.map((w) => `${w.name}: ${w.message}`), [
    'Odd_Name.1: port 9000/tcp is published on any free host port, which Kubernetes cannot say: not published (a Service can: --service)',
    'Odd_Name.1: user "app" is not numeric: Kubernetes\' securityContext takes ids only (kept as an annotation; the cluster runs the image\'s user)',
  ]);
});

test('generate: the mappings of one record', () => {
  const r = generateFromContainers([{ record: web }]);
  const [claim, pod] = r.objects.map((o) => o.object) as [any, any];
  assert.equal(claim.kind, 'PersistentVolumeClaim');
  assert.equal(claim.metadata.name, 'data');
  const c = pod.spec.containers[0];
  // Docker ENTRYPOINT → command, CMD → args
  assert.deepEqual([c.command, c.args], [['/bin/sh', '-c'], ['httpd -f -p 80']]);
  // image PATH, HOSTNAME and HOME=/root are skiff's, not the user's
  assert.deepEqual(c.env, [{ name: 'FOO', value: 'bar' }, { name: 'SP', value: 'a b' }]);
  assert.deepEqual(c.ports, [{ containerPort: 80, hostPort: 8080 }, { containerPort: 90, hostPort: 9090, hostIP: '127.0.0.1', protocol: 'UDP' }]);
  assert.deepEqual(c.resources, { limits: { cpu: '1500m', memory: '64Mi' } });
  assert.deepEqual(c.securityContext, { runAsUser: 1000, runAsGroup: 1000, capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN'] }, readOnlyRootFilesystem: true });
  // 15s/3s/2.5s/4: whole seconds, rounded up; the exact check kept as an annotation
  assert.deepEqual(c.livenessProbe, { exec: { command: ['/bin/sh', '-c', 'wget -q -O- localhost'] }, initialDelaySeconds: 3, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 });
  assert.deepEqual(c.readinessProbe, c.livenessProbe);
  assert.equal(pod.metadata.annotations['io.skiff.healthcheck/web'], JSON.stringify(web.Config.Healthcheck));
  assert.equal(pod.spec.restartPolicy, 'OnFailure');
  assert.equal(pod.metadata.annotations['io.skiff.restart/web'], 'on-failure:3');
  assert.equal(pod.metadata.annotations['io.skiff.stop-signal/web'], 'SIGQUIT');
  assert.equal(pod.metadata.annotations['io.skiff.init/web'], 'true');
  assert.equal(pod.spec.terminationGracePeriodSeconds, 20);
  // a label value with '/' is not a Kubernetes label: kept in an annotation
  assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'front' });
  assert.equal(pod.metadata.annotations['io.skiff.labels/web'], '{"com.example/path":"/x/y"}');
  assert.deepEqual(pod.spec.volumes, [
    { name: 'data-pvc', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'srv-www-host', hostPath: { path: '/srv/www' } },
    { name: 'run-t-tmpfs', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
  ]);
  assert.deepEqual(c.volumeMounts, [
    { name: 'data-pvc', mountPath: '/data' },
    { name: 'srv-www-host', mountPath: '/www', readOnly: true },
    { name: 'run-t-tmpfs', mountPath: '/run/t' },
  ]);
});

test('generate: with the image config, what the image says is left out', () => {
  const r = generateFromContainers([{ record: plain, image: BUSYBOX }, { record: record('shell'), image: BUSYBOX }]);
  const cs = r.objects.map((o) => (o.object as any).spec.containers[0]);
  assert.deepEqual(cs[0], { name: 'sleeper', image: 'busybox', args: ['sleep', '1000'] });
  assert.deepEqual(cs[1], { name: 'shell', image: 'busybox' });
  // without it, an empty ENTRYPOINT may hide the image's: the whole argv is the command
  const bare = generateFromContainers([{ record: plain }]);
  assert.deepEqual((bare.objects[0]!.object as any).spec.containers[0].command, ['sleep', '1000']);
});

test('generate --type deployment --replicas: a Deployment with a matching selector, restartPolicy Always', () => {
  const r = generateFromContainers([{ record: web }], { type: 'deployment', replicas: 3 });
  const d = r.objects[1]!.object as any;
  assert.equal(d.apiVersion, 'apps/v1');
  assert.equal(d.kind, 'Deployment');
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
  assert.equal(d.spec.template.metadata.labels.app, 'web');
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  // the pod-level policy a Deployment must have does not lose Docker's: the annotation keeps it
  assert.equal(d.spec.template.metadata.annotations['io.skiff.restart/web'], 'on-failure:3');
  assert.ok(r.warnings.some((w) => /a Deployment's pods always restart/.test(w.message)));
  assert.ok(r.warnings.some((w) => /3 replicas with a hostPort/.test(w.message)));
  checkAccepted(r, 'deployment.yaml');
});

test('generate --service: a Service per workload, no hostPorts; NodePort in range, ClusterIP otherwise', () => {
  const svcRec = record('api', { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '30080' }], '443/tcp': [{ HostPort: '8443' }] } }, Config: { ExposedPorts: { '80/tcp': {}, '443/tcp': {}, '9100/tcp': {} } } });
  const r = generateFromContainers([{ record: svcRec, image: BUSYBOX }, { record: record('internal', { Config: { ExposedPorts: { '5432/tcp': {} } } }), image: BUSYBOX }], { service: true });
  const kinds = r.objects.map((o) => `${o.object.kind} ${o.object.metadata!.name}`);
  assert.deepEqual(kinds, ['Service api', 'Pod api', 'Service internal', 'Pod internal']);
  const svc = r.objects[0]!.object as any;
  assert.equal(svc.spec.type, 'NodePort');
  assert.deepEqual(svc.spec.ports, [
    { port: 30080, targetPort: 80, nodePort: 30080, name: 'tcp-30080' },
    { port: 8443, targetPort: 443, name: 'tcp-8443' },
    { port: 9100, targetPort: 9100, name: 'tcp-9100' },
  ]);
  assert.deepEqual((r.objects[1]!.object as any).spec.containers[0].ports, [{ containerPort: 80 }, { containerPort: 443 }, { containerPort: 9100 }]);
  assert.equal((r.objects[2]!.object as any).spec.type, 'ClusterIP');
  assert.ok(r.warnings.some((w) => /host port 8443 lies outside Kubernetes' NodePort range/.test(w.message)));
  checkAccepted(r, 'service.yaml');
});

test('generate: what a cluster would reject is refused, never written', () => {
  const bad = record('web', { Config: { Env: ['MY VAR=1'] } });
  assert.throws(
    () => generateFromContainers([{ record: bad }]),
    (e: unknown) => e instanceof SkiffError && /document 1 \(Pod web\): spec\.containers\[0\]\.env\[0\]\.name: "MY VAR": must consist of/.test(e.message),
  );
  // two containers whose names become the same object name
  assert.throws(() => generateFromContainers([{ record: record('a_b') }, { record: record('a-b') }]), /would both be a-b/);
});

test('generate --compose: the compose test application, dependencies first, a comment for each depends_on', () => {
  const dir = path.join(KUBE_FIXTURES, 'compose-app');
  const project = loadProject({ files: [path.join(dir, 'compose.yaml')], env: {} });
  const r = generateFromCompose(project);
  // the bind's absolute path (and the volume name made from it) depend on the checkout
  const www = path.join(dir, 'www');
  expectYaml('compose-app.yaml', r.yaml.split(hostPathVolumeName(www)).join(hostPathVolumeName('/PROJECT/www')).split(dir).join('/PROJECT'));
  checkAccepted(r, 'compose-app.yaml');
  assert.deepEqual(r.objects.map((o) => `${o.object.kind} ${o.object.metadata!.name}`), ['PersistentVolumeClaim kubeapp-data', 'Pod db', 'Pod web', 'Pod worker']);
  const worker = r.objects[3]!;
  assert.match(worker.comments.join('\n'), /worker depends on db \(service_healthy\): Kubernetes has no depends_on/);
  // the volume's engine name is not a claim name: the claim keeps it
  assert.equal((r.objects[0]!.object as any).metadata.annotations['io.skiff.volume-name'], 'kubeapp_data');
  const db = (r.objects[1]!.object as any).spec.containers[0];
  assert.deepEqual(db.readinessProbe, { exec: { command: ['test', '-f', '/tmp/ready'] }, initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 10 });
  const withService = generateFromCompose(project, { service: true, type: 'deployment' });
  assert.deepEqual(withService.objects.map((o) => `${o.object.kind} ${o.object.metadata!.name}`), [
    'PersistentVolumeClaim kubeapp-data', 'Service db', 'Deployment db', 'Service web', 'Deployment web', 'Deployment worker',
  ]);
  checkAccepted(withService, 'compose-app-service.yaml');
});
