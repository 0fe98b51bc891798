import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planKube, hostPathCheck, type KubePlan } from '../../src/kube/index.js';
import { SkiffError } from '../../src/errors.js';

const fails = (text: string, re: RegExp): void => {
  assert.throws(() => planKube(text, { file: 'app.yaml' }), (e: unknown) => {
    assert.ok(e instanceof SkiffError, String(e));
    assert.match(e.message, re);
    assert.equal(e.exitCode, 125);
    return true;
  });
};

const APP = `
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  index.html: "<h1>hi</h1>"
  MODE: production
  1st: x
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data:
  password: c2VjcmV0
stringData:
  user: admin
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: app-data
  annotations: {io.skiff.volume-name: app_data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 2Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - name: init
          image: busybox
          command: [sh, -c, "echo init > /work/init"]
          volumeMounts: [{name: scratch, mountPath: /work}]
      containers:
        - name: httpd
          image: busybox:1.36
          command: [httpd]
          args: [-f, -p, "$(PORT)", -h, /www, "$$(PORT)"]
          ports: [{name: http, containerPort: 8080, hostPort: 8081}]
          env:
            - {name: PORT, value: "8080"}
            - {name: URL, value: "http://localhost:$(PORT)/$(NOPE)"}
            - name: PASSWORD
              valueFrom: {secretKeyRef: {name: creds, key: password}}
            - name: POD
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            - name: IP
              valueFrom: {fieldRef: {fieldPath: status.podIP}}
            - name: MEM
              valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
            - name: GONE
              valueFrom: {configMapKeyRef: {name: web-config, key: nothere, optional: true}}
          envFrom:
            - configMapRef: {name: web-config}
              prefix: CFG_
            - configMapRef: {name: web-config}
          resources:
            limits: {memory: 128Mi, cpu: 250m}
            requests: {cpu: 100m}
          volumeMounts:
            - {name: www, mountPath: /www}
            - {name: data, mountPath: /data}
            - {name: scratch, mountPath: /work}
            - {name: fast, mountPath: /fast}
            - {name: host, mountPath: /host, readOnly: true}
            - {name: secret, mountPath: /etc/creds}
          livenessProbe:
            httpGet: {path: /, port: http}
            periodSeconds: 5
          readinessProbe:
            exec: {command: [/bin/sh, -c, "test -f /www/index.html"]}
          securityContext:
            runAsUser: 1000
            capabilities: {add: [CAP_NET_BIND_SERVICE], drop: [all]}
            allowPrivilegeEscalation: false
      volumes:
        - name: www
          configMap:
            name: web-config
            items: [{key: index.html, path: html/index.html, mode: 0600}]
        - {name: data, persistentVolumeClaim: {claimName: app-data}}
        - {name: scratch, emptyDir: {}}
        - {name: fast, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
        - {name: host, hostPath: {path: /srv/shared, type: Directory}}
        - name: secret
          secret: {secretName: creds, defaultMode: 0400}
---
apiVersion: v1
kind: Service
metadata: {name: web-svc}
spec:
  type: NodePort
  selector: {app: web}
  ports:
    - {port: 80, targetPort: http, nodePort: 30080}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
`;

const text = (b: Buffer): string => b.toString('utf8');

test('play: a Deployment plays as its replicas, podman-named, with their containers', () => {
  const plan = planKube(APP, { file: 'app.yaml', nodeName: 'host1' });
  assert.deepEqual(plan.pods.map((p) => p.name), ['web-pod-0', 'web-pod-1']);
  const pod = plan.pods[0]!;
  assert.deepEqual(pod.source, { kind: 'Deployment', name: 'web', replica: 0 });
  assert.equal(pod.document, 4);
  assert.equal(pod.hostname, 'web-pod-0');
  assert.equal(pod.restartPolicy, 'Always');
  assert.deepEqual(pod.initContainers.map((c) => [c.name, c.kubeName, c.restart.Name]), [['web-pod-0-init', 'init', 'no']]);
  const c = pod.containers[0]!;
  assert.equal(c.name, 'web-pod-0-httpd');
  assert.equal(c.image, 'busybox:1.36');
  assert.equal(c.pull, 'missing');
  assert.equal(pod.initContainers[0]!.pull, 'always');
  // command → ENTRYPOINT, args → CMD, $(VAR) expanded, $$ escaped
  assert.deepEqual(c.entrypoint, ['httpd']);
  assert.deepEqual(c.cmd, ['-f', '-p', '8080', '-h', '/www', '$(PORT)']);
  assert.equal(c.restart.Name, 'always');
});

test('play: env from values, ConfigMaps, Secrets, fields and resources; envFrom with a prefix', () => {
  const plan = planKube(APP, { file: 'app.yaml', nodeName: 'host1' });
  const c = plan.pods[1]!.containers[0]!;
  assert.deepEqual(c.env, {
    'CFG_index.html': '<h1>hi</h1>',
    CFG_MODE: 'production',
    CFG_1st: 'x',
    'index.html': '<h1>hi</h1>',
    MODE: 'production',
    PORT: '8080',
    URL: 'http://localhost:8080/$(NOPE)',
    PASSWORD: 'secret',
    POD: 'web-pod-1',
    MEM: '128',
  });
  assert.deepEqual(c.runtimeEnv, [{ name: 'IP', fieldPath: 'status.podIP' }]);
  assert.ok(plan.warnings.some((w) => /key "1st" is not a valid variable name: skipped/.test(w.message)));
});

test('play: volumes: claim, configMap items with modes, secret files, emptyDir, memory, hostPath', () => {
  const plan = planKube(APP, { file: 'app.yaml' });
  const pod = plan.pods[0]!;
  const mounts = pod.containers[0]!.mounts;
  const files = mounts.find((m) => m.target === '/www');
  assert.ok(files && files.type === 'files');
  assert.deepEqual(files.files.map((f) => [f.path, text(f.content), f.mode.toString(8)]), [['html/index.html', '<h1>hi</h1>', '600']]);
  assert.equal(files.volume, 'web-pod-0-www');
  assert.deepEqual(mounts.find((m) => m.target === '/data'), { type: 'volume', name: 'app_data', target: '/data', readOnly: false });
  assert.deepEqual(mounts.find((m) => m.target === '/work'), { type: 'volume', name: 'web-pod-0-scratch', target: '/work', readOnly: false, ephemeral: true });
  assert.deepEqual(mounts.find((m) => m.target === '/fast'), { type: 'tmpfs', target: '/fast', sizeBytes: 16 * 1024 * 1024 });
  assert.deepEqual(mounts.find((m) => m.target === '/host'), { type: 'bind', source: '/srv/shared', target: '/host', readOnly: true, hostPathType: 'Directory' });
  const secret = mounts.find((m) => m.target === '/etc/creds');
  assert.ok(secret && secret.type === 'files');
  assert.deepEqual(secret.files.map((f) => [f.path, text(f.content), f.mode.toString(8)]), [['password', 'secret', '400'], ['user', 'admin', '400']]);
  // the init container shares the pod's emptyDir
  assert.deepEqual(pod.initContainers[0]!.mounts, [{ type: 'volume', name: 'web-pod-0-scratch', target: '/work', readOnly: false, ephemeral: true }]);
  assert.deepEqual(pod.volumes.map((v) => v.name), ['web-pod-0-www', 'web-pod-0-scratch', 'web-pod-0-secret']);
  assert.deepEqual(plan.volumes, [{ name: 'app_data', claim: 'app-data', document: 3, labels: {}, sizeBytes: 2 * 1024 ** 3 }]);
  assert.ok(plan.warnings.some((w) => /mounts the host path \/srv\/shared/.test(w.message)));
});

test('play: resources, probes → healthcheck, securityContext', () => {
  const c = planKube(APP, { file: 'app.yaml' }).pods[0]!.containers[0]!;
  assert.equal(c.memory, 128 * 1024 * 1024);
  assert.equal(c.nanoCpus, 250e6);
  assert.equal(c.cpuShares, 102);
  // the livenessProbe wins; an httpGet becomes a command run in the container
  assert.deepEqual(c.healthcheck, {
    Test: ['CMD-SHELL', "wget -q -O /dev/null 'http://localhost:8080/' || curl -fsS -o /dev/null 'http://localhost:8080/'"],
    Interval: 5e9,
    Timeout: 1e9,
    Retries: 3,
  });
  assert.equal(c.healthOnFailure, 'restart');
  assert.equal(c.user, '1000');
  assert.deepEqual([c.capAdd, c.capDrop, c.noNewPrivileges], [['NET_BIND_SERVICE'], ['ALL'], true]);
});

test('play: hostPorts and Services are published on the host; Service names are aliases', () => {
  const plan: KubePlan = planKube(APP, { file: 'app.yaml' });
  const [first, second] = plan.pods;
  assert.deepEqual(first!.ports, [
    { hostPort: 8081, containerPort: 8080, protocol: 'tcp', from: { kind: 'Pod', name: 'web-pod-0' } },
    { hostPort: 30080, containerPort: 8080, protocol: 'tcp', from: { kind: 'Service', name: 'web-svc' } },
  ]);
  assert.deepEqual(second!.ports, []);
  assert.deepEqual(first!.aliases, ['web-svc', 'web']);
  assert.deepEqual(second!.aliases, ['web-svc', 'web']);
  assert.deepEqual(plan.services, [
    { name: 'web-svc', document: 5, type: 'NodePort', pods: ['web-pod-0', 'web-pod-1'] },
    { name: 'web', document: 6, type: 'ClusterIP', pods: ['web-pod-0', 'web-pod-1'] },
  ]);
  const w = plan.warnings.map((x) => `${x.document} ${x.kind ?? ''} ${x.name ?? ''}: ${x.message}`);
  assert.ok(w.includes('7 Ingress ing: kind Ingress (networking.k8s.io/v1) is not implemented by skiff: skipped'), w.join('\n'));
  assert.ok(w.some((x) => /host port 8081 is published by the first replica only/.test(x)));
  assert.ok(w.some((x) => /selects 2 pods: published by web-pod-0 only/.test(x)));
  // a NodePort without nodePort is published at its port; LoadBalancer at port; publishAll publishes containerPorts
  const lb = planKube(`apiVersion: v1
kind: Pod
metadata: {name: p, labels: {a: b}}
spec:
  containers: [{name: c, image: busybox, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 9000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: NodePort, selector: {a: b}, ports: [{port: 5353, targetPort: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: l}
spec: {type: LoadBalancer, selector: {a: b}, ports: [{port: 9443, targetPort: 9000}]}
`, { publishAll: true });
  assert.deepEqual(lb.pods[0]!.ports.map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol} ${p.from.kind}`), ['53->53/udp Pod', '9000->9000/tcp Pod', '5353->53/udp Service', '9443->9000/tcp Service']);
});

test('play: restart policies, and skiff annotations give Docker\'s back', () => {
  const pod = (policy: string, ann = ''): KubePlan => planKube(`apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {${ann}}
spec:
  restartPolicy: ${policy}
  containers: [{name: c, image: busybox, command: [sleep, "1"]}]
`);
  const r = (plan: KubePlan): string => {
    const x = plan.pods[0]!.containers[0]!.restart;
    return `${x.Name}:${x.MaximumRetryCount}`;
  };
  assert.equal(r(pod('Always')), 'always:0');
  assert.equal(r(pod('Never')), 'no:0');
  assert.equal(r(pod('OnFailure')), 'on-failure:0');
  assert.equal(r(pod('OnFailure', '"io.skiff.restart/c": "on-failure:5"')), 'on-failure:5');
  assert.equal(r(pod('Always', '"io.skiff.restart/c": unless-stopped')), 'unless-stopped:0');
  // an annotation that contradicts the policy does not win
  assert.equal(r(pod('Never', '"io.skiff.restart/c": unless-stopped')), 'no:0');
  const c = pod('Always', '"io.skiff.stop-signal/c": SIGQUIT, "io.skiff.init/c": "true", "io.skiff.user/c": app').pods[0]!.containers[0]!;
  assert.deepEqual([c.stopSignal, c.init, c.user], ['SIGQUIT', true, 'app']);
  // a command without args: the image's CMD is not used
  assert.deepEqual([c.entrypoint, c.cmd], [['sleep', '1'], []]);
});

test('play: bad input names the document, the path and the problem', () => {
  fails('kind: Pod\nmetadata: {name: x}\n', /document 1 \(Pod x\): apiVersion: missing apiVersion: not a Kubernetes object/);
  fails('apiVersion: v1\nmetadata: {name: x}\n', /document 1 \(x\): kind: missing kind/);
  fails('---\n---\n- a\n- b\n', /^invalid Kubernetes YAML in app\.yaml: document 2: not a Kubernetes object \(a mapping with apiVersion, kind and metadata\)$/);
  fails('apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: d}\n', /document 1 \(Deployment d\): apiVersion \(line 1\): apiVersion "apps\/v1beta1" is not one of Deployment's: use apps\/v1/);
  fails(
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    ports:\n    - containerPort: "abc"\n',
    /document 1 \(Pod p\): spec\.containers\[0\]\.ports\[0\]\.containerPort \(line 9\): must be an integer/,
  );
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    resources: {limits: {memory: 12xyz}}\n', /spec\.containers\[0\]\.resources\.limits\.memory \(line 8\): must be a quantity/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: Sometimes\n  containers: [{name: c, image: busybox}]\n', /spec\.restartPolicy \(line 5\): must be one of "Always", "Never", "OnFailure"/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{image: busybox}]\n', /spec\.containers\[0\] \(line 5\): missing required property "name"/);
  // a volumeMount naming no volume
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    volumeMounts: [{name: nope, mountPath: /x}]\n', /document 1 \(Pod p\): spec\.containers\[0\]\.volumeMounts\[0\]\.name \(line 8\): Not found: "nope"/);
  // a configMapKeyRef to a missing key, not optional
  fails(
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: "1"}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    env:\n    - name: X\n      valueFrom: {configMapKeyRef: {name: cm, key: b}}\n',
    /document 2 \(Pod p\): spec\.containers\[0\]\.env\[0\]\.valueFrom\.configMapKeyRef \(line 15\): configMap "cm" has no key "b" \(and it is not optional\)/,
  );
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox, envFrom: [{secretRef: {name: s}}]}]\n', /envFrom\[0\]\.secretRef\.name \(line 5\): secret "s" not found/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: P_1}\nspec:\n  containers: [{name: c, image: busybox}]\n', /metadata\.name \(line 3\): "P_1": must consist of lower case alphanumeric characters/);
  fails(
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: c}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n',
    /`selector` does not match template `labels`.*spec\.template\.spec\.restartPolicy \(line 9\): Unsupported value: "Never"/,
  );
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, configMap: {name: cm, items: [{key: a, path: ../../etc/passwd}], optional: true}}]\n  containers: [{name: c, image: busybox}]\n', /items\[0\]\.path.*must be a relative path that does not contain '\.\.'/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, nfs: {server: x, path: /}}]\n  containers: [{name: c, image: busybox}]\n', /spec\.volumes\[0\] \(line 5\): volume type nfs is not supported by skiff/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, hostPath: {path: /x, type: Weird}}]\n  containers: [{name: c, image: busybox}]\n', /spec\.volumes\[0\]\.hostPath\.type \(line 5\): must be one of "", "BlockDevice"/);
  fails('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n', /no Pod, Deployment or PersistentVolumeClaim: nothing to play/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}\n', /failed to parse app\.yaml: line/);
  // a List counts as its items, named by their place in it
  fails('apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: {containers: [{name: c}]}\n', /document 1 \(Pod p\): items\[0\]\.spec\.containers\[0\]\.image \(line 7\): image is required/);
});

test('play: unsupported fields are warnings by name, not silence', () => {
  const plan = planKube('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeSelector: {disk: ssd}\n  containers: [{name: c, image: busybox, lifecycle: {preStop: {exec: {command: [x]}}}}]\n');
  assert.deepEqual(plan.warnings.map((w) => w.message), ['spec.nodeSelector is not supported by skiff: ignored', 'spec.containers[0].lifecycle is not supported by skiff: ignored']);
});

test('hostPathCheck: Kubernetes\' type checks, for the executor', () => {
  const st = (kind: string) => ({
    isDirectory: () => kind === 'dir',
    isFile: () => kind === 'file',
    isSocket: () => kind === 'sock',
    isCharacterDevice: () => kind === 'chr',
    isBlockDevice: () => kind === 'blk',
  });
  assert.equal(hostPathCheck('Directory', '/x', st('dir')), 'ok');
  assert.deepEqual(hostPathCheck('Directory', '/x', st('file')), { error: 'hostPath type check failed: /x is not a directory' });
  assert.deepEqual(hostPathCheck('Directory', '/x', undefined), { error: 'hostPath type check failed: /x does not exist (type Directory)' });
  assert.equal(hostPathCheck('DirectoryOrCreate', '/x', undefined), 'mkdir');
  assert.equal(hostPathCheck('FileOrCreate', '/x', undefined), 'create-file');
  assert.deepEqual(hostPathCheck('CharDevice', '/dev/null', st('file')), { error: 'hostPath type check failed: /dev/null is not a char device' });
  assert.equal(hostPathCheck('', '/x', undefined), 'mkdir');
});
