/**
 * `skiff kube` end to end (rootful and rootless; images from the local test registry only; traffic only
 * to loopback and the test's own containers):
 * - generate of a running container: YAML that validates against Kubernetes' schemas (the domain's
 *   reader) and says the container's image, command, env, port, volume, memory limit;
 * - play of a two-container pod: busybox httpd and a sidecar that fetches it on localhost (the pod's
 *   shared network), both with the pod's hostname (shared UTS) and IPC namespace; the hostPort on the host;
 *   `ps --filter label=` lists the pod; a second play fails, --replace plays it again;
 * - a Deployment with 2 replicas, an init container, env from a ConfigMap and a ConfigMap mounted as
 *   files; a PersistentVolumeClaim whose data survives `down` and a second play; unknown kinds named;
 * - round trip: generate -> rm -> play keeps command, env, port, mount and memory limit;
 * - errors (a missing kind, a schema violation, a failing init container) name the document and path,
 *   exit 125 and change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { skiff, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';
import { fetchText, freePort } from '../helpers/netns.js';
import { leftSince, storeSnapshot } from '../helpers/leftovers.js';
import { readKubeYaml, type KubeObject } from '../../src/kube/index.js';

describe('kube: generate, play, down', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  const ok = async (args: string[], input?: string): Promise<{ stdout: string; stderr: string }> => {
    const r = await skiff(args, { store, ...(input !== undefined ? { input } : {}) });
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const write = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const execOut = async (c: string, script: string): Promise<string> => (await ok(['exec', c, 'sh', '-c', script])).stdout.trim();

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    dir = fs.mkdtempSync(path.join(store.home, 'kube-'));
  });
  after(async () => {
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.yaml')) await skiff(['kube', 'down', '--force', path.join(dir, f)], { store }).catch(() => undefined);
    await store.cleanup();
  });

  test('generate: a running container as a Pod that validates and says what the container is', async () => {
    const port = await freePort();
    await ok(['run', '-d', '--name', 'gen', '-e', 'GREETING=hi there', '-p', `127.0.0.1:${port}:80`, '-v', 'gendata:/data', '-m', '64m', image, 'sh', '-c', 'exec sleep 1000']);
    const yaml = (await ok(['kube', 'generate', 'gen'])).stdout;
    const r = readKubeYaml(yaml);
    assert.deepEqual(r.problems, [], 'the generated YAML validates');
    assert.deepEqual(r.documents.map((d) => `${d.kind}/${d.name}`), ['PersistentVolumeClaim/gendata', 'Pod/gen']);
    const pod = r.documents[1]!.object as KubeObject & { spec: { containers: Record<string, unknown>[]; volumes: Record<string, unknown>[]; restartPolicy: string } };
    const c = pod.spec.containers[0]!;
    assert.equal(c.image, image);
    // busybox has no ENTRYPOINT: Docker's CMD is Kubernetes' args
    assert.equal(c.command, undefined);
    assert.deepEqual(c.args, ['sh', '-c', 'exec sleep 1000']);
    assert.deepEqual(c.env, [{ name: 'GREETING', value: 'hi there' }]);
    assert.deepEqual(c.ports, [{ containerPort: 80, hostPort: port, hostIP: '127.0.0.1' }]);
    assert.deepEqual(c.resources, { limits: { memory: '64Mi' } });
    assert.deepEqual(c.volumeMounts, [{ name: 'gendata-pvc', mountPath: '/data' }]);
    assert.deepEqual(pod.spec.volumes, [{ name: 'gendata-pvc', persistentVolumeClaim: { claimName: 'gendata' } }]);
    assert.equal(pod.spec.restartPolicy, 'Never');

    // --type deployment --replicas --service, into a file; the file is not overwritten
    const out = path.join(dir, 'gen-deploy.yml');
    await ok(['kube', 'generate', '--type', 'deployment', '--replicas', '3', '--service', '-f', out, 'gen']);
    const d = readKubeYaml(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(d.problems, []);
    assert.deepEqual(d.documents.map((x) => x.kind), ['PersistentVolumeClaim', 'Service', 'Deployment']);
    assert.equal((d.documents[2]!.object as { spec: { replicas: number } }).spec.replicas, 3);
    const again = await skiff(['kube', 'generate', '-f', out, 'gen'], { store });
    assert.equal(again.code, 125);
    assert.match(again.stderr, /^Error: .*already exists/m);
    // Podman's older spelling
    assert.equal((await ok(['generate', 'kube', 'gen'])).stdout, yaml);
    const missing = await skiff(['kube', 'generate', 'nosuch'], { store });
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: .*nosuch/m);
    await ok(['rm', '-f', 'gen']);
  });

  test('generate --compose: the services of the project in the current directory, dependencies first', async () => {
    const proj = fs.mkdtempSync(path.join(dir, 'proj-'));
    fs.writeFileSync(
      path.join(proj, 'compose.yaml'),
      `name: shop\nservices:\n  worker:\n    image: ${image}\n    command: ["sleep", "100"]\n    depends_on: [web]\n    volumes: ["data:/data"]\n  web:\n    image: ${image}\n    ports: ["127.0.0.1:8080:80"]\n    deploy: {resources: {limits: {memory: 32M}}}\nvolumes:\n  data: {}\n`,
    );
    const r = await skiff(['kube', 'generate', '--compose', '--type', 'deployment'], { store, cwd: proj });
    assert.equal(r.code, 0, r.stderr);
    const read = readKubeYaml(r.stdout);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.documents.map((d) => `${d.kind}/${d.name}`), ['PersistentVolumeClaim/shop-data', 'Deployment/web', 'Deployment/worker']);
    assert.match(r.stdout, /# worker depends on web \(service_started\): Kubernetes has no depends_on/);
    const web = read.documents[1]!.object as { spec: { template: { spec: { containers: { ports: unknown; resources: unknown }[] } } } };
    assert.deepEqual(web.spec.template.spec.containers[0]!.ports, [{ containerPort: 80, hostPort: 8080, hostIP: '127.0.0.1' }]);
    assert.deepEqual(web.spec.template.spec.containers[0]!.resources, { limits: { memory: '32Mi' } });
    const bad = await skiff(['kube', 'generate', '--compose', 'nosuch'], { store, cwd: proj });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: no such service: nosuch$/m);
  });

  test('play: a two-container pod shares network, hostname and IPC; the hostPort serves on the host', async () => {
    const port = await freePort();
    const file = write(
      'pod.yaml',
      `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: httpd
    image: ${image}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /w && echo hello-kube >/w/index.html && exec httpd -f -p 8080 -h /w"]
    ports: [{containerPort: 8080, hostPort: ${port}, hostIP: 127.0.0.1}]
  - name: sidecar
    image: ${image}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "until wget -q -O /tmp/got http://localhost:8080/; do sleep 0.2; done; cat /tmp/got; exec sleep 1000"]
`,
    );
    const r = await ok(['kube', 'play', file]);
    assert.match(r.stdout, /^Pods:\nweb\n$/);
    await until('the sidecar to fetch the page over localhost', async () => (await ok(['logs', 'web-sidecar'])).stdout.includes('hello-kube'));
    assert.equal(await fetchText(`http://127.0.0.1:${port}/`), 'hello-kube\n');
    const ns = async (c: string): Promise<string> => execOut(c, 'hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; readlink /proc/self/ns/net');
    const httpdNs = await ns('web-httpd');
    assert.match(httpdNs, /^web\n/);
    assert.equal(await ns('web-sidecar'), httpdNs, 'both containers in the same network, IPC and UTS namespaces');
    // and the same /dev/shm, as a pod's containers have under Kubernetes
    await execOut('web-httpd', 'echo shared > /dev/shm/kube-shm');
    assert.equal(await execOut('web-sidecar', 'cat /dev/shm/kube-shm'), 'shared');
    const names = (await ok(['ps', '--filter', 'label=io.skiff.kube.pod=web', '--format', '{{.Names}}'])).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['web-httpd', 'web-infra', 'web-sidecar']);
    assert.deepEqual((await ok(['ps', '--filter', 'label=app=web', '-q'])).stdout.trim().split('\n').length, 3);

    const second = await skiff(['kube', 'play', file], { store });
    assert.equal(second.code, 125);
    assert.match(second.stderr, /^Error: pod web already exists/m);
    const before = (await ok(['inspect', '-f', '{{.Id}}', 'web-httpd'])).stdout;
    await ok(['kube', 'play', '--replace', file]);
    assert.notEqual((await ok(['inspect', '-f', '{{.Id}}', 'web-httpd'])).stdout, before);
    await until('the page again', async () => (await fetchText(`http://127.0.0.1:${port}/`)) === 'hello-kube\n');

    const down = await ok(['kube', 'play', '--down', file]);
    assert.match(down.stdout, /web/);
    assert.equal((await ok(['ps', '-a', '--filter', 'label=io.skiff.kube.pod=web', '-q'])).stdout, '');
  });

  test('play: a Deployment of 2 replicas with an init container, a ConfigMap as env and files, a probe, a NodePort Service, a PVC that survives down', async () => {
    const nodePort = await freePort();
    const file = write(
      'app.yaml',
      `apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data:
  greeting: hello-config
  app.conf: |
    key=value
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: appdata}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  replicas: 2
  selector: {matchLabels: {app: dep}}
  template:
    metadata: {labels: {app: dep}}
    spec:
      initContainers:
      - name: prep
        image: ${image}
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "echo init-$(hostname) >>/data/log"]
        volumeMounts: [{name: d, mountPath: /data}]
      containers:
      - name: main
        image: ${image}
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "httpd -p 8080 -h /etc/cfg && exec sleep 1000"]
        ports: [{containerPort: 8080, name: http}]
        livenessProbe:
          exec: {command: [test, -f, /etc/cfg/greeting]}
          periodSeconds: 1
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: conf, key: greeting}}
        envFrom: [{secretRef: {name: creds}}]
        volumeMounts:
        - {name: cfg, mountPath: /etc/cfg}
        - {name: d, mountPath: /data}
      volumes:
      - {name: cfg, configMap: {name: conf, items: [{key: app.conf, path: sub/app.conf, mode: 0400}, {key: greeting, path: greeting}]}}
      - {name: d, persistentVolumeClaim: {claimName: appdata}}
---
apiVersion: v1
kind: Service
metadata: {name: depsvc}
spec:
  type: NodePort
  selector: {app: dep}
  ports: [{port: 8080, targetPort: http, nodePort: ${nodePort}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  template:
    spec:
      containers: [{name: j, image: ${image}}]
      restartPolicy: Never
`,
    );
    const r = await ok(['kube', 'play', file]);
    assert.match(r.stdout, /^Pods:\ndep-pod-0\ndep-pod-1\n$/);
    assert.match(r.stderr, /document 6 \(Job batch\).*not implemented by skiff: skipped/);
    for (const pod of ['dep-pod-0', 'dep-pod-1']) {
      assert.equal(await execOut(`${pod}-main`, 'echo "$GREETING $password $(hostname)"'), `hello-config s3cret ${pod}`);
      assert.equal(await execOut(`${pod}-main`, 'cat /etc/cfg/greeting; echo; cat /etc/cfg/sub/app.conf; stat -c %a /etc/cfg/sub/app.conf'), 'hello-config\nkey=value\n400');
      assert.match((await ok(['ps', '-a', '--filter', `name=${pod}-prep`, '--format', '{{.Status}}'])).stdout, /^Exited \(0\)/);
    }
    assert.deepEqual((await execOut('dep-pod-0-main', 'cat /data/log')).split('\n').sort(), ['init-dep-pod-0', 'init-dep-pod-1']);
    // the Service is published by the first pod it selects; the probe is the container's healthcheck; a Deployment's pods restart
    await until('the Service on the host', async () => (await fetchText(`http://127.0.0.1:${nodePort}/greeting`)) === 'hello-config');
    await until('the livenessProbe to report healthy', async () => (await ok(['inspect', '-f', '{{.State.Health.Status}}', 'dep-pod-1-main'])).stdout.trim() === 'healthy');
    assert.equal((await ok(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'dep-pod-0-main'])).stdout.trim(), 'always');
    await ok(['exec', 'dep-pod-1-main', 'sh', '-c', 'echo kept >/data/mark']);

    await ok(['kube', 'down', file]);
    assert.equal((await ok(['ps', '-a', '--filter', 'label=app=dep', '-q'])).stdout, '');
    const vols = (await ok(['volume', 'ls', '-q'])).stdout.split('\n');
    assert.ok(vols.includes('appdata'), 'the claim\'s volume is kept');
    assert.ok(!vols.some((v) => v.startsWith('dep-pod-')), `the pods' own volumes are gone: ${vols.join(' ')}`);

    await ok(['kube', 'play', file]);
    assert.equal(await execOut('dep-pod-0-main', 'cat /data/mark'), 'kept');
    await ok(['kube', 'down', '--force', file]);
    assert.ok(!(await ok(['volume', 'ls', '-q'])).stdout.split('\n').includes('appdata'), 'down --force removes the claim\'s volume');
  });

  test('round trip: generate, remove, play keeps command, env, ports, mounts and limits', async () => {
    const port = await freePort();
    await ok(['run', '-d', '--name', 'rt', '-e', 'MODE=round trip', '-p', `127.0.0.1:${port}:80`, '-v', 'rtdata:/data', '-m', '96m', image, 'sh', '-c', 'echo round-$MODE >/data/index.html && exec httpd -f -p 80 -h /data']);
    const file = write('rt.yaml', (await ok(['kube', 'generate', 'rt'])).stdout);
    const orig = JSON.parse((await ok(['inspect', 'rt'])).stdout)[0];
    await ok(['rm', '-f', 'rt']);
    await ok(['kube', 'play', file]);
    const played = JSON.parse((await ok(['inspect', 'rt-rt'])).stdout)[0];
    const infra = JSON.parse((await ok(['inspect', 'rt-infra'])).stdout)[0];
    assert.deepEqual([played.Path, ...played.Args], [orig.Path, ...orig.Args]);
    assert.ok(played.Config.Env.includes('MODE=round trip'));
    assert.equal(played.HostConfig.Memory, orig.HostConfig.Memory);
    assert.deepEqual(played.Mounts.map((m: { Type: string; Name: string; Destination: string }) => `${m.Type}:${m.Name}:${m.Destination}`), ['volume:rtdata:/data']);
    assert.deepEqual(infra.HostConfig.PortBindings, orig.HostConfig.PortBindings);
    await until('the page of the played pod', async () => (await fetchText(`http://127.0.0.1:${port}/`)) === 'round-round trip\n');
    await ok(['kube', 'down', '--force', file]);
  });

  test('errors name the document and the path, exit 125 and change nothing', async () => {
    const snap = storeSnapshot(store);
    const cases: [string, string, RegExp][] = [
      ['nokind.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: x}\n`, /document 2 \(x\): kind: missing kind/],
      [
        'schema.yaml',
        `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c1}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n    ports:\n    - containerPort: "abc"\n`,
        /document 2 \(Pod p\): spec\.containers\[0\]\.ports\[0\]\.containerPort \(line \d+\): must be an integer/,
      ],
      [
        'initfail.yaml',
        `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c2}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: failing}\nspec:\n  initContainers:\n  - {name: i, image: ${image}, imagePullPolicy: IfNotPresent, command: ["false"]}\n  volumes: [{name: d, persistentVolumeClaim: {claimName: c2}}, {name: e, emptyDir: {}}]\n  containers:\n  - {name: c, image: ${image}, imagePullPolicy: IfNotPresent, command: ["sleep", "100"], volumeMounts: [{name: d, mountPath: /d}, {name: e, mountPath: /e}]}\n`,
        /init container i of pod failing exited with code 1/,
      ],
    ];
    for (const [name, text, re] of cases) {
      const r = await skiff(['kube', 'play', write(name, text)], { store });
      assert.equal(r.code, 125, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.match(lines[lines.length - 1]!, /^Error: /);
      assert.match(r.stderr, re);
    }
    const fromStdin = await skiff(['kube', 'play', '-'], { store, input: 'kind: Pod\n' });
    assert.equal(fromStdin.code, 125);
    assert.match(fromStdin.stderr, /^Error: .*document 1.*apiVersion/m);
    assert.deepEqual(await leftSince(store, snap), {});
  });
});
