/**
 * `kube play` planning: a multi-document file → a KubePlan, data that the executor carries out with
 * skiff's container, volume and network functions. Nothing here touches the store or the system.
 *
 * - Pod → one pod of that name; Deployment → `replicas` pods `NAME-pod-0`, `NAME-pod-1`, ... (podman 4's
 *   names; podman 5 plays one replica); a pod's containers are `POD-CONTAINER` (podman's), its hostname
 *   the pod's name unless `spec.hostname` says one (as Kubernetes does).
 * - initContainers come in order, to run to completion before the containers (a sidecar init container,
 *   restartPolicy Always, is started with the containers: a warning says so).
 * - Ports: a containerPort with a hostPort is published on the host (hostIP kept); without one it is not
 *   (podman 5; `publishAll` publishes every containerPort on the same host port, podman's
 *   --publish-all). Of a Deployment's replicas only the first publishes (one machine, one port).
 * - Services publish on the host too: type NodePort at `nodePort`, or at `port` when it has none (on one
 *   machine a client expects the Service's port; Kubernetes would pick from 30000-32767), LoadBalancer
 *   at `port` (as k3s and Docker Desktop do); the target is `targetPort` (a number, or a named port of
 *   the pod), default `port`. They go to the first pod the selector matches. Every Service's name is
 *   an alias of the pods it selects on the pods' network (ClusterIP's meaning here; without a proxy the
 *   alias reaches the container port, so a port ≠ targetPort is a warning).
 * - ConfigMaps and Secrets (base64 `data` decoded, `stringData` over it) feed env and volumes; they are
 *   not objects of their own (podman's way). PersistentVolumeClaims become named volumes.
 */
import { SkiffError } from '../errors.js';
import { formatPath } from '../compose/tree.js';
import { A, containerKey } from './annotations.js';
import { resolveEnv, expand, type DataSources, type PodFacts } from './env.js';
import { kubeError, WarningList, type KubeProblem, type KubeWarning } from './errors.js';
import { healthFromAnnotation, probeToHealth } from './health.js';
import { emptyContainer, type ContainerSpec, type FileSpec, type Protocol } from './model.js';
import { containerName, podName as podNameOf } from './names.js';
import { restartFromKube, resourcesFromKube, securityFromKube, type KubeRestart } from './policy.js';
import { quantityBytes } from './quantity.js';
import { readKubeYaml, type KubeDocument } from './read.js';
import type { ConfigMap, Container, Deployment, Pod, PodSpec, PersistentVolumeClaim, Secret, Service } from './types.js';
import { containerMounts, resolveVolumes } from './volumes.js';

export interface PlayOptions {
  /** File name for messages ('-' for stdin). */
  file?: string;
  /** ConfigMaps from other files (podman's --configmap): their text. */
  configMapFiles?: { file: string; text: string }[];
  /** The value of fieldRef spec.nodeName (the machine's host name). */
  nodeName?: string;
  /** Publish every containerPort on the same host port (podman's --publish-all). */
  publishAll?: boolean;
}

export interface PublishedPort {
  /** 0: any free port. */
  hostPort: number;
  hostIp?: string;
  containerPort: number;
  protocol: Protocol;
  /** What asked for it: a container's hostPort, or a Service. */
  from: { kind: 'Pod' | 'Service'; name: string };
}

export interface PlannedContainer extends ContainerSpec {
  /** The container's name in the pod (Kubernetes'); `name` is the engine's (`POD-CONTAINER`). */
  kubeName: string;
  /** Docker's --pull: imagePullPolicy Always → always, IfNotPresent → missing, Never → never. */
  pull: 'always' | 'missing' | 'never';
  /** A failing healthcheck restarts the container (a livenessProbe in a pod that restarts), or only marks it. */
  healthOnFailure: 'restart' | 'none';
  /** Environment values known only when the pod runs (status.podIP, metadata.uid, a limit not set). */
  runtimeEnv: { name: string; fieldPath: string }[];
  /** securityContext.runAsNonRoot: refuse to start as uid 0 (the image's user included). */
  runAsNonRoot: boolean;
}

/** A volume that lives and dies with its pod (emptyDir on disk, the files of configMap/secret volumes). */
export interface PodVolume {
  name: string;
  files?: { source: { kind: 'ConfigMap' | 'Secret'; name: string }; files: FileSpec[] };
}

export interface PlannedPod {
  name: string;
  document: number;
  source: { kind: 'Pod' | 'Deployment'; name: string; replica?: number };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostname: string;
  restartPolicy: KubeRestart;
  hostNetwork: boolean;
  hostIpc: boolean;
  hostPid: boolean;
  shareProcessNamespace: boolean;
  /** Published on the host through the pod's network namespace (its infra process holds it). */
  ports: PublishedPort[];
  /** Names of the pod on its network: the Services that select it. */
  aliases: string[];
  /** hostAliases as Docker's --add-host `NAME:IP`. */
  extraHosts: string[];
  dns?: { nameservers: string[]; searches: string[]; options: string[] };
  volumes: PodVolume[];
  initContainers: PlannedContainer[];
  containers: PlannedContainer[];
}

export interface PlannedVolume {
  /** The engine's volume name. */
  name: string;
  /** The claim it comes from (undefined: a claim or hostPath name that no PVC in the file declares). */
  claim?: string;
  document?: number;
  labels: Record<string, string>;
  /** resources.requests.storage (informational: local volumes have no size). */
  sizeBytes?: number;
}

export interface KubePlan {
  pods: PlannedPod[];
  /** Named volumes to use, made when missing (PVCs, and claims/hostPath names the pods use). */
  volumes: PlannedVolume[];
  /** Services and the pods they selected. */
  services: { name: string; document: number; type: string; pods: string[] }[];
  warnings: KubeWarning[];
}

/** PodSpec fields skiff implements (others: a warning each), and those that mean nothing here (quiet). */
const POD_FIELDS = new Set(['containers', 'initContainers', 'volumes', 'restartPolicy', 'hostname', 'terminationGracePeriodSeconds', 'hostNetwork', 'hostIPC', 'hostPID', 'shareProcessNamespace', 'securityContext', 'hostAliases', 'dnsConfig']);
const POD_QUIET = new Set(['dnsPolicy', 'enableServiceLinks', 'automountServiceAccountToken', 'serviceAccountName', 'serviceAccount', 'schedulerName', 'subdomain']);
const CONTAINER_FIELDS = new Set(['name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'ports', 'env', 'envFrom', 'resources', 'volumeMounts', 'livenessProbe', 'readinessProbe', 'startupProbe', 'securityContext', 'stdin', 'tty', 'restartPolicy']);
const CONTAINER_QUIET = new Set(['stdinOnce', 'terminationMessagePath', 'terminationMessagePolicy']);

function decode(values: Record<string, string> | undefined, base64: boolean): [string, Buffer][] {
  return Object.entries(values ?? {}).map(([k, v]) => [k, base64 ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8')]);
}

function pullPolicy(c: Container): PlannedContainer['pull'] {
  const p = c.imagePullPolicy;
  if (p === 'Always') return 'always';
  if (p === 'Never') return 'never';
  if (p === 'IfNotPresent') return 'missing';
  // Kubernetes' default: Always for :latest or no tag (and no digest), else IfNotPresent
  const image = c.image ?? '';
  const tag = /:([^/:@]+)$/.exec(image.split('@')[0]!)?.[1];
  return !image.includes('@') && (tag === undefined || tag === 'latest') ? 'always' : 'missing';
}

class Planner {
  readonly warnings = new WarningList();
  readonly problems: KubeProblem[] = [];
  readonly data: DataSources = { configMaps: new Map(), secrets: new Map() };
  /** claim name → volume name */
  readonly claims = new Map<string, string>();
  readonly volumes = new Map<string, PlannedVolume>();
  readonly pods: PlannedPod[] = [];
  private readonly podNames = new Set<string>();

  constructor(private readonly opts: PlayOptions) {}

  private where(d: KubeDocument): { document: number; kind: string; name: string } {
    return { document: d.document, kind: d.kind, name: d.name };
  }

  addData(d: KubeDocument): void {
    if (d.kind === 'ConfigMap') {
      const m = d.object as ConfigMap;
      if (this.data.configMaps.has(d.name)) return this.problem(d, 'metadata.name', `a ConfigMap named ${JSON.stringify(d.name)} is given twice`);
      this.data.configMaps.set(d.name, new Map([...decode(m.data, false), ...decode(m.binaryData, true)]));
    } else if (d.kind === 'Secret') {
      const s = d.object as Secret;
      if (this.data.secrets.has(d.name)) return this.problem(d, 'metadata.name', `a Secret named ${JSON.stringify(d.name)} is given twice`);
      this.data.secrets.set(d.name, new Map([...decode(s.data, true), ...decode(s.stringData, false)]));
    } else if (d.kind === 'PersistentVolumeClaim') {
      const c = d.object as PersistentVolumeClaim;
      const volume = c.metadata?.annotations?.[A.volumeName] ?? d.name;
      if (this.claims.has(d.name)) return this.problem(d, 'metadata.name', `a PersistentVolumeClaim named ${JSON.stringify(d.name)} is given twice`);
      this.claims.set(d.name, volume);
      const storage = c.spec?.resources?.requests?.storage;
      const size = storage !== undefined ? quantityBytes(storage) : undefined;
      this.volumes.set(volume, { name: volume, claim: d.name, document: d.document, labels: { ...(c.metadata?.labels ?? {}) }, ...(size ? { sizeBytes: size } : {}) });
      if (c.spec?.storageClassName || c.spec?.selector || c.spec?.dataSource) this.warnings.add({ ...this.where(d), message: 'storageClassName, selector and dataSource are not supported: a local volume' });
    }
  }

  private problem(d: KubeDocument, path: string, message: string, line?: number): void {
    const p = d.path === '' ? path : path === '' ? d.path : `${d.path}.${path}`;
    const l = line ?? d.lines.get(path);
    this.problems.push({ ...this.where(d), path: p, ...(l !== undefined ? { line: l } : {}), message });
  }

  addWorkload(d: KubeDocument): void {
    let spec: PodSpec;
    let meta: { labels: Record<string, string>; annotations: Record<string, string> };
    let specPath: (string | number)[];
    let names: { name: string; replica?: number }[];
    if (d.kind === 'Pod') {
      const p = d.object as Pod;
      spec = p.spec!;
      meta = { labels: p.metadata?.labels ?? {}, annotations: p.metadata?.annotations ?? {} };
      specPath = ['spec'];
      names = [{ name: d.name }];
    } else {
      const dep = d.object as Deployment;
      spec = dep.spec!.template.spec!;
      // the Deployment's own annotations, then the template's (podman reads the Deployment's)
      meta = { labels: dep.spec!.template.metadata?.labels ?? {}, annotations: { ...(dep.metadata?.annotations ?? {}), ...(dep.spec!.template.metadata?.annotations ?? {}) } };
      specPath = ['spec', 'template', 'spec'];
      const replicas = dep.spec!.replicas ?? 1;
      if (replicas === 0) this.warnings.add({ ...this.where(d), message: 'replicas: 0: no pod' });
      names = Array.from({ length: replicas }, (_, i) => ({ name: podNameOf('Deployment', d.name, i), replica: i }));
    }
    for (const k of Object.keys(spec)) {
      if (!POD_FIELDS.has(k) && !POD_QUIET.has(k)) this.warnings.add({ ...this.where(d), message: `${formatPath([...specPath, k])} is not supported by skiff: ignored` });
    }
    for (const n of names) {
      if (this.podNames.has(n.name)) {
        this.problem(d, 'metadata.name', `a pod named ${JSON.stringify(n.name)} is made twice`);
        continue;
      }
      this.podNames.add(n.name);
      this.pods.push(this.pod(d, n.name, n.replica, spec, specPath, meta));
    }
  }

  private pod(d: KubeDocument, name: string, replica: number | undefined, spec: PodSpec, specPath: (string | number)[], meta: { labels: Record<string, string>; annotations: Record<string, string> }): PlannedPod {
    const problem = (p: { path: string; message: string }): void => this.problem(d, p.path, p.message);
    const warn = (w: KubeWarning): void => this.warnings.add({ ...this.where(d), ...w });
    const vols = resolveVolumes(spec.volumes ?? [], [...specPath, 'volumes'], name, this.claims, this.data, problem, warn);
    const podVolumes: PodVolume[] = [];
    for (const v of vols.values()) {
      if (v.kind === 'claim' || v.kind === 'named') {
        if (!this.volumes.has(v.volume)) this.volumes.set(v.volume, { name: v.volume, labels: {} });
      } else if (v.kind === 'empty') podVolumes.push({ name: v.volume });
      else if (v.kind === 'files') podVolumes.push({ name: v.volume, files: { source: v.source, files: v.files } });
    }
    const claimRO = new Set((spec.volumes ?? []).filter((v) => v.persistentVolumeClaim?.readOnly).map((v) => v.name));
    const restartPolicy = (spec.restartPolicy ?? 'Always') as KubeRestart;
    const facts: PodFacts = { name, namespace: 'default', labels: meta.labels, annotations: meta.annotations, nodeName: this.opts.nodeName ?? 'localhost', serviceAccountName: spec.serviceAccountName ?? 'default' };
    const pod: PlannedPod = {
      name,
      document: d.document,
      source: { kind: d.kind as 'Pod' | 'Deployment', name: d.name, ...(replica !== undefined ? { replica } : {}) },
      labels: { ...meta.labels },
      annotations: { ...meta.annotations },
      hostname: spec.hostname ?? name,
      restartPolicy,
      hostNetwork: spec.hostNetwork === true,
      hostIpc: spec.hostIPC === true,
      hostPid: spec.hostPID === true,
      shareProcessNamespace: spec.shareProcessNamespace === true,
      ports: [],
      aliases: [],
      extraHosts: (spec.hostAliases ?? []).flatMap((h) => (h.hostnames ?? []).map((n) => `${n}:${h.ip}`)),
      volumes: podVolumes,
      initContainers: [],
      containers: [],
    };
    if (spec.dnsConfig) pod.dns = { nameservers: spec.dnsConfig.nameservers ?? [], searches: spec.dnsConfig.searches ?? [], options: (spec.dnsConfig.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '')) };
    const psc = spec.securityContext;
    if (psc) {
      for (const k of Object.keys(psc)) if (!['runAsUser', 'runAsGroup', 'runAsNonRoot'].includes(k)) warn({ message: `${formatPath([...specPath, 'securityContext', k])} is not supported by skiff: ignored` });
    }
    const groups: ['initContainers' | 'containers', Container[]][] = [['initContainers', spec.initContainers ?? []], ['containers', spec.containers]];
    for (const [field, list] of groups) {
      list.forEach((c, i) => {
        const at = [...specPath, field, i];
        const planned = this.container(c, at, pod, spec, facts, vols, claimRO, field === 'initContainers', (p) => problem(p), warn);
        if (field === 'initContainers' && c.restartPolicy === 'Always') {
          warn({ message: `init container ${c.name} (restartPolicy Always, a sidecar) is started with the containers` });
          pod.containers.push(planned);
        } else (field === 'initContainers' ? pod.initContainers : pod.containers).push(planned);
        this.ports(c, at, pod, replica, problem);
      });
    }
    return pod;
  }

  private ports(c: Container, at: (string | number)[], pod: PlannedPod, replica: number | undefined, problem: (p: { path: string; message: string }) => void): void {
    (c.ports ?? []).forEach((p, i) => {
      const hostPort = p.hostPort ?? (this.opts.publishAll ? p.containerPort : undefined);
      if (!hostPort) return;
      if (replica !== undefined && replica > 0) {
        this.warnings.add({ document: pod.document, kind: 'Deployment', name: pod.source.name, message: `host port ${hostPort} is published by the first replica only (one machine)` });
        return;
      }
      const protocol = (p.protocol ?? 'TCP').toLowerCase() as Protocol;
      const clash = pod.ports.find((x) => x.hostPort === hostPort && x.protocol === protocol && (x.hostIp ?? '') === (p.hostIP ?? ''));
      if (clash) {
        problem({ path: formatPath([...at, 'ports', i, 'hostPort']), message: `host port ${hostPort}/${protocol} is published twice in pod ${pod.name}` });
        return;
      }
      pod.ports.push({ hostPort, ...(p.hostIP ? { hostIp: p.hostIP } : {}), containerPort: p.containerPort, protocol, from: { kind: 'Pod', name: pod.name } });
    });
  }

  private container(
    c: Container,
    at: (string | number)[],
    pod: PlannedPod,
    spec: PodSpec,
    facts: PodFacts,
    vols: ReturnType<typeof resolveVolumes>,
    claimRO: Set<string>,
    init: boolean,
    problem: (p: { path: string; message: string }) => void,
    warn: (w: KubeWarning) => void,
  ): PlannedContainer {
    for (const k of Object.keys(c)) {
      if (!CONTAINER_FIELDS.has(k) && !CONTAINER_QUIET.has(k)) warn({ message: `${formatPath([...at, k])} is not supported by skiff: ignored` });
    }
    const ann = (key: string): string | undefined => pod.annotations[containerKey(key, c.name)];
    const base = emptyContainer(containerName(pod.name, c.name), c.image ?? '');
    const { env, runtime } = resolveEnv(c, at, facts, this.data, problem, warn);
    const lookup = (n: string): string | undefined => (Object.prototype.hasOwnProperty.call(env, n) ? env[n] : undefined);
    if (c.command !== undefined) {
      base.entrypoint = c.command.map((s) => expand(s, lookup));
      // a command without args: Kubernetes does not use the image's CMD
      base.cmd = (c.args ?? []).map((s) => expand(s, lookup));
    } else if (c.args !== undefined) base.cmd = c.args.map((s) => expand(s, lookup));
    base.env = env;
    base.ports = (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() as Protocol, ...(p.name ? { name: p.name } : {}) }));
    base.mounts = containerMounts(c, at, vols, (n) => claimRO.has(n), problem, warn);
    Object.assign(base, resourcesFromKube(c.resources));
    const pids = ann(A.pidsLimit);
    if (pids && /^\d+$/.test(pids)) base.pidsLimit = Number(pids);
    let healthOnFailure: PlannedContainer['healthOnFailure'] = 'none';
    const probe = c.livenessProbe ?? c.readinessProbe ?? c.startupProbe;
    if (probe) {
      const which = c.livenessProbe ? 'livenessProbe' : c.readinessProbe ? 'readinessProbe' : 'startupProbe';
      const h = probeToHealth(probe, (p) => (typeof p === 'number' ? p : (c.ports ?? []).find((x) => x.name === p)?.containerPort));
      if ('unsupported' in h) warn({ message: `container ${c.name}: ${which}: ${h.unsupported}: no healthcheck` });
      else {
        base.healthcheck = healthFromAnnotation(ann(A.healthcheck), h) ?? h;
        if (c.livenessProbe && pod.restartPolicy !== 'Never') healthOnFailure = 'restart';
      }
    }
    base.restart = init ? { Name: 'no', MaximumRetryCount: 0 } : restartFromKube(pod.restartPolicy, ann(A.restart));
    const sec = securityFromKube(c.securityContext, spec.securityContext, ann(A.user));
    if (sec.groupOnly !== undefined) warn({ message: `container ${c.name}: runAsGroup without runAsUser cannot be said to Docker: ignored` });
    if (sec.user !== undefined) base.user = sec.user;
    Object.assign(base, { capAdd: sec.capAdd, capDrop: sec.capDrop, readOnlyRootfs: sec.readOnlyRootfs, privileged: sec.privileged, noNewPrivileges: sec.noNewPrivileges });
    if (c.workingDir) base.workingDir = c.workingDir;
    let restored: Record<string, string> = {};
    try {
      const t = ann(A.labels);
      if (t !== undefined) restored = JSON.parse(t) as Record<string, string>;
    } catch {
      warn({ message: `container ${c.name}: annotation ${containerKey(A.labels, c.name)} is not a JSON object: ignored` });
    }
    base.labels = { ...pod.labels, ...restored };
    base.tty = c.tty === true;
    base.stdin = c.stdin === true;
    base.init = ann(A.init) === 'true';
    base.autoRemove = ann(A.autoRemove) === 'true';
    const sig = ann(A.stopSignal);
    if (sig) base.stopSignal = sig;
    if (spec.terminationGracePeriodSeconds !== undefined) base.stopTimeout = spec.terminationGracePeriodSeconds;
    base.hostname = pod.hostname;
    return { ...base, kubeName: c.name, pull: pullPolicy(c), healthOnFailure, runtimeEnv: runtime, runAsNonRoot: sec.runAsNonRoot };
  }

  addService(d: KubeDocument, services: KubePlan['services']): void {
    const s = d.object as Service;
    const spec = s.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') {
      this.warnings.add({ ...this.where(d), message: 'type ExternalName is not supported by skiff: skipped' });
      return;
    }
    const selector = spec.selector ?? {};
    const matched = Object.keys(selector).length === 0 ? [] : this.pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
    services.push({ name: d.name, document: d.document, type, pods: matched.map((p) => p.name) });
    if (matched.length === 0) {
      this.warnings.add({ ...this.where(d), message: 'its selector matches no pod of the file: nothing published' });
      return;
    }
    for (const p of matched) if (!p.aliases.includes(d.name)) p.aliases.push(d.name);
    const publish = type === 'NodePort' || type === 'LoadBalancer';
    if (publish && matched.length > 1) this.warnings.add({ ...this.where(d), message: `selects ${matched.length} pods: published by ${matched[0]!.name} only (no load balancing on one machine)` });
    const target = matched[0]!;
    (spec.ports ?? []).forEach((sp, i) => {
      const protocol = (sp.protocol ?? 'TCP').toLowerCase() as Protocol;
      let containerPort: number | undefined;
      if (typeof sp.targetPort === 'string') {
        containerPort = [...target.initContainers, ...target.containers].flatMap((c) => c.ports).find((p) => p.name === sp.targetPort)?.containerPort;
        if (containerPort === undefined) {
          this.problem(d, `spec.ports[${i}].targetPort`, `no container of pod ${target.name} has a port named ${JSON.stringify(sp.targetPort)}`);
          return;
        }
      } else containerPort = sp.targetPort ?? sp.port;
      if (!publish) {
        if (containerPort !== sp.port) this.warnings.add({ ...this.where(d), message: `port ${sp.port} → ${containerPort}: on the pods' network the name ${d.name} reaches the container's port ${containerPort}, not ${sp.port}` });
        return;
      }
      const hostPort = type === 'NodePort' ? (sp.nodePort ?? sp.port) : sp.port;
      const existing = target.ports.find((x) => x.hostPort === hostPort && x.protocol === protocol && !x.hostIp);
      if (existing) {
        if (existing.containerPort !== containerPort) this.problem(d, `spec.ports[${i}]`, `host port ${hostPort}/${protocol} is already published by pod ${target.name} to port ${existing.containerPort}`);
        return;
      }
      target.ports.push({ hostPort, containerPort, protocol, from: { kind: 'Service', name: d.name } });
    });
  }
}

function readOrThrow(text: string, file: string): ReturnType<typeof readKubeYaml> {
  const r = readKubeYaml(text, file);
  if (r.problems.length) throw kubeError(r.problems, `invalid Kubernetes YAML in ${file}`);
  return r;
}

/** Plans a kube file: problems throw one SkiffError (document, path, problem); warnings come back in the plan. */
export function planKube(text: string, opts: PlayOptions = {}): KubePlan {
  const file = opts.file ?? '-';
  const r = readOrThrow(text, file);
  const p = new Planner(opts);
  for (const w of r.warnings) p.warnings.add(w);
  for (const extra of opts.configMapFiles ?? []) {
    const x = readOrThrow(extra.text, extra.file);
    for (const d of x.documents) {
      if (d.kind !== 'ConfigMap') throw new SkiffError('EINVAL', `${extra.file}: document ${d.document} is a ${d.kind}, not a ConfigMap`);
      if (r.documents.some((o) => o.kind === 'ConfigMap' && o.name === d.name)) throw new SkiffError('EINVAL', `ambiguous configuration: the ConfigMap ${d.name} is in ${file} and in ${extra.file}`);
      p.addData(d);
    }
  }
  for (const d of r.documents) p.addData(d);
  for (const d of r.documents) if (d.kind === 'Pod' || d.kind === 'Deployment') p.addWorkload(d);
  const services: KubePlan['services'] = [];
  for (const d of r.documents) if (d.kind === 'Service') p.addService(d, services);
  if (p.problems.length) throw kubeError(p.problems, `invalid Kubernetes YAML in ${file}`);
  if (p.pods.length === 0 && p.volumes.size === 0) {
    throw new SkiffError('EINVAL', r.documents.length ? `${file} has no Pod, Deployment or PersistentVolumeClaim: nothing to play (ConfigMaps, Secrets and Services are used by pods)` : `${file} has no Kubernetes object of a kind skiff implements`);
  }
  return { pods: p.pods, volumes: [...p.volumes.values()], services, warnings: p.warnings.list };
}
