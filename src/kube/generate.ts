/**
 * `kube generate`: containers (records) or a compose project → Kubernetes objects, then YAML.
 *
 * One Pod (or Deployment with `replicas`) per container or service, named after it (a DNS-1123 label:
 * `my_app` → `my-app`) and labelled `app: NAME`; the container of the same name. Named volumes become
 * PersistentVolumeClaims (written once, before the pods; 1Gi ReadWriteOnce, as podman's), binds hostPath
 * volumes (`srv-data-host`, podman's names), tmpfs emptyDir with medium Memory, anonymous volumes
 * emptyDir. Published ports become `hostPort`s, or with `service` a Service per workload: NodePort when a
 * port is published (port = the host port, nodePort = it too when it lies in Kubernetes' default NodePort
 * range 30000-32767, else the cluster picks one), ClusterIP otherwise (services reach each other by these
 * names). A compose project's services come in dependency order, each dependency said in a YAML comment
 * (Kubernetes has no depends_on). Every object is validated (validate.ts) before anything is returned:
 * generate never writes an object a cluster would reject.
 */
import type { Project } from '../compose/model.js';
import { serviceNames } from '../compose/serialize.js';
import { toYaml } from '../compose/serialize.js';
import type { Json } from '../compose/tree.js';
import { A, containerKey } from './annotations.js';
import { containerFromService } from './compose.js';
import { containerFromRecord, type DockerContainerInput } from './docker.js';
import { kubeError, WarningList, type KubeProblem, type KubeWarning } from './errors.js';
import { healthToProbe } from './health.js';
import type { ContainerSpec } from './model.js';
import { dns1123Label, dns1123Subdomain, hostPathVolumeName, labelValue, qualifiedName, toDns1035Label, toDnsLabel, uniqueName } from './names.js';
import { restartToKube, resourcesToKube, securityToKube } from './policy.js';
import type { Container, ContainerPort, Deployment, Kind, KubeObject, PersistentVolumeClaim, Pod, PodSpec, Service, ServicePort, Volume, VolumeMount } from './types.js';
import { objectProblems } from './validate.js';
import { memoryQuantity } from './quantity.js';

export interface GenerateOptions {
  /** Pod (default) or Deployment per container/service. */
  type?: 'pod' | 'deployment';
  /** Deployment replicas (default: compose's deploy.replicas, else 1). */
  replicas?: number;
  /** A Service per workload instead of hostPorts. */
  service?: boolean;
}

export interface GeneratedObject {
  object: KubeObject;
  /** YAML comment lines written before the object (without `# `). */
  comments: string[];
}

export interface GenerateResult {
  objects: GeneratedObject[];
  /** The objects as one multi-document YAML stream (stable key order). */
  yaml: string;
  warnings: KubeWarning[];
}

const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

interface Workload {
  spec: ContainerSpec;
  replicas?: number;
  comments: string[];
}

class Generator {
  readonly warnings = new WarningList();
  private readonly claims = new Map<string, PersistentVolumeClaim>();
  private readonly objects: GeneratedObject[] = [];

  constructor(private readonly opts: GenerateOptions) {}

  private warn(name: string, message: string): void {
    this.warnings.add({ kind: 'container', name, message });
  }

  /** The claim for a named volume (made once): its name a DNS-1123 subdomain, the volume's own name kept when it is not one. */
  private claim(volume: string): string {
    const valid = dns1123Subdomain(volume) === undefined;
    const name = valid ? volume : toDnsLabel(volume);
    const existing = this.claims.get(name);
    if (existing && (existing.metadata?.annotations?.[A.volumeName] ?? name) !== volume) {
      throw kubeError([{ path: '', message: `volumes ${JSON.stringify(volume)} and ${JSON.stringify(existing.metadata?.annotations?.[A.volumeName] ?? name)} would both be claim ${name}` }], 'kube generate');
    }
    if (!existing) {
      this.claims.set(name, {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, ...(valid ? {} : { annotations: { [A.volumeName]: volume } }) },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
    }
    return name;
  }

  private container(c: ContainerSpec, name: string, annotations: Record<string, string>, volumes: Volume[]): Container {
    const out: Container = { name, image: c.image };
    // Docker ENTRYPOINT → command, CMD → args; no ENTRYPOINT at all: the whole argv is the command
    if (c.entrypoint !== undefined && c.entrypoint.length === 0) {
      if (c.cmd && c.cmd.length) out.command = c.cmd;
    } else {
      if (c.entrypoint) out.command = c.entrypoint;
      if (c.cmd && (c.cmd.length || c.entrypoint)) {
        if (c.cmd.length) out.args = c.cmd;
      }
    }
    if (c.workingDir) out.workingDir = c.workingDir;
    const ports: ContainerPort[] = [];
    for (const p of c.ports) {
      const cp: ContainerPort = { containerPort: p.containerPort };
      if (!this.opts.service && p.hostPort !== undefined) {
        if (p.hostPort > 0) {
          cp.hostPort = p.hostPort;
          if (p.hostIp) cp.hostIP = p.hostIp;
        } else this.warn(c.name, `port ${p.containerPort}/${p.protocol} is published on any free host port, which Kubernetes cannot say: not published (a Service can: --service)`);
      }
      if (p.protocol !== 'tcp') cp.protocol = p.protocol.toUpperCase() as ContainerPort['protocol'];
      if (!ports.some((x) => JSON.stringify(x) === JSON.stringify(cp))) ports.push(cp);
    }
    if (ports.length) out.ports = ports;
    const env = Object.entries(c.env).map(([k, v]) => ({ name: k, value: v }));
    if (env.length) out.env = env;
    const resources = resourcesToKube(c);
    if (resources) out.resources = resources;
    const mounts = this.mounts(c, volumes);
    if (mounts.length) out.volumeMounts = mounts;
    if (c.healthcheck) {
      const r = healthToProbe(c.healthcheck);
      if (r) {
        out.livenessProbe = r.probe;
        out.readinessProbe = { ...r.probe, exec: { command: [...r.probe.exec!.command!] } };
        if (!r.exact) annotations[containerKey(A.healthcheck, name)] = JSON.stringify(c.healthcheck);
      }
    }
    const sec = securityToKube(c);
    if (sec.context) out.securityContext = sec.context;
    if (sec.userAnnotation) {
      annotations[containerKey(A.user, name)] = sec.userAnnotation;
      this.warn(c.name, `user ${JSON.stringify(c.user)} is not numeric: Kubernetes' securityContext takes ids only (kept as an annotation; the cluster runs the image's user)`);
    }
    if (c.stdin) out.stdin = true;
    if (c.tty) out.tty = true;
    return out;
  }

  private mounts(c: ContainerSpec, volumes: Volume[]): VolumeMount[] {
    const names = new Set(volumes.map((v) => v.name));
    const out: VolumeMount[] = [];
    for (const m of c.mounts) {
      let vol: Volume;
      if (m.type === 'volume') {
        const claimName = this.claim(m.name);
        const existing = volumes.find((v) => v.persistentVolumeClaim?.claimName === claimName && (v.persistentVolumeClaim.readOnly ?? false) === m.readOnly);
        vol = existing ?? { name: uniqueName(`${toDnsLabel(claimName).slice(0, 59).replace(/-+$/, '')}-pvc`, names), persistentVolumeClaim: { claimName, ...(m.readOnly ? { readOnly: true } : {}) } };
        if (!existing) volumes.push(vol);
        out.push({ name: vol.name, mountPath: m.target, ...(m.readOnly ? { readOnly: true } : {}), ...(m.subPath ? { subPath: m.subPath } : {}) });
        continue;
      }
      if (m.type === 'bind') {
        vol = { name: uniqueName(hostPathVolumeName(m.source), names), hostPath: { path: m.source, ...(m.hostPathType ? { type: m.hostPathType } : {}) } };
      } else if (m.type === 'tmpfs') {
        if (m.mode !== undefined) this.warn(c.name, `tmpfs ${m.target}: Kubernetes' emptyDir has no mode (${m.mode.toString(8)}): left out`);
        vol = { name: uniqueName(`${toDnsLabel(m.target, 'root').slice(0, 57).replace(/-+$/, '')}-tmpfs`, names), emptyDir: { medium: 'Memory', ...(m.sizeBytes ? { sizeLimit: memoryQuantity(m.sizeBytes) } : {}) } };
      } else if (m.type === 'anonymous') {
        vol = { name: uniqueName(`${toDnsLabel(m.target, 'root').slice(0, 57).replace(/-+$/, '')}-empty`, names), emptyDir: {} };
      } else {
        this.warn(c.name, `files mounted at ${m.target} have no generated form: left out`);
        continue;
      }
      volumes.push(vol);
      out.push({ name: vol.name, mountPath: m.target, ...('readOnly' in m && m.readOnly ? { readOnly: true } : {}) });
    }
    return out;
  }

  /** Labels that are valid Kubernetes labels, and the others as one JSON annotation. */
  private labels(c: ContainerSpec, name: string, app: string, annotations: Record<string, string>): Record<string, string> {
    const labels: Record<string, string> = {};
    const rest: Record<string, string> = {};
    for (const k of Object.keys(c.labels).sort()) {
      const v = c.labels[k]!;
      if (k !== 'app' && qualifiedName(k) === undefined && labelValue(v) === undefined) labels[k] = v;
      else if (!(k === 'app' && v === app)) rest[k] = v;
    }
    if (Object.keys(rest).length) annotations[containerKey(A.labels, name)] = JSON.stringify(rest);
    return { app, ...labels };
  }

  add(w: Workload): void {
    const c = w.spec;
    const name = toDnsLabel(c.name);
    const annotations: Record<string, string> = {};
    const volumes: Volume[] = [];
    const container = this.container(c, name, annotations, volumes);
    const labels = this.labels(c, name, name, annotations);
    const deployment = this.opts.type === 'deployment';
    const restart = restartToKube(c.restart);
    let restartPolicy = restart.policy;
    if (deployment && restartPolicy !== 'Always') {
      this.warn(c.name, `restart policy ${c.restart.Name || 'no'}: a Deployment's pods always restart (restartPolicy Always)`);
      restartPolicy = 'Always';
    }
    if (restart.annotation) annotations[containerKey(A.restart, name)] = restart.annotation;
    else if (restartPolicy !== restart.policy) annotations[containerKey(A.restart, name)] = c.restart.Name || 'no';
    if (c.stopSignal) annotations[containerKey(A.stopSignal, name)] = c.stopSignal;
    if (c.init) annotations[containerKey(A.init, name)] = 'true';
    if (c.autoRemove) annotations[containerKey(A.autoRemove, name)] = 'true';
    if (c.pidsLimit) annotations[containerKey(A.pidsLimit, name)] = String(c.pidsLimit);
    const spec: PodSpec = { containers: [container], restartPolicy };
    if (c.hostname) {
      if (dns1123Label(c.hostname) === undefined) spec.hostname = c.hostname;
      else this.warn(c.name, `hostname ${JSON.stringify(c.hostname)} is not a DNS-1123 label, which Kubernetes' hostname must be: left out`);
    }
    if (c.stopTimeout !== undefined) spec.terminationGracePeriodSeconds = c.stopTimeout;
    if (volumes.length) spec.volumes = volumes;
    const sortedAnnotations = Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const meta = { labels, ...(Object.keys(sortedAnnotations).length ? { annotations: sortedAnnotations } : {}) };
    let object: Pod | Deployment;
    if (deployment) {
      const replicas = this.opts.replicas ?? w.replicas ?? 1;
      if (replicas > 1 && container.ports?.some((p) => p.hostPort)) this.warn(c.name, `${replicas} replicas with a hostPort: on one node only one of them can bind it`);
      object = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, labels: { app: name } },
        spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: meta, spec } },
      };
    } else {
      object = { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec };
    }
    if (this.opts.service) {
      const svc = this.service(c, name);
      if (svc) this.objects.push({ object: svc, comments: [] });
    }
    this.objects.push({ object, comments: w.comments });
  }

  private service(c: ContainerSpec, app: string): Service | undefined {
    const ports: ServicePort[] = [];
    let published = false;
    for (const p of c.ports) {
      const port = p.hostPort && p.hostPort > 0 ? p.hostPort : p.containerPort;
      const protocol = p.protocol.toUpperCase() as ServicePort['protocol'];
      if (ports.some((x) => x.port === port && (x.protocol ?? 'TCP') === protocol)) {
        this.warn(c.name, `port ${port}/${p.protocol} is published twice: the Service has it once`);
        continue;
      }
      const sp: ServicePort = { port, targetPort: p.containerPort };
      if (protocol !== 'TCP') sp.protocol = protocol;
      if (p.hostPort !== undefined) {
        published = true;
        if (p.hostPort >= NODE_PORT_MIN && p.hostPort <= NODE_PORT_MAX) sp.nodePort = p.hostPort;
        else if (p.hostPort > 0) this.warn(c.name, `host port ${p.hostPort} lies outside Kubernetes' NodePort range (${NODE_PORT_MIN}-${NODE_PORT_MAX}): the Service listens on port ${port} and the cluster picks the node port`);
      }
      ports.push(sp);
    }
    if (ports.length === 0) {
      this.warn(c.name, 'has no ports: no Service');
      return undefined;
    }
    if (ports.length > 1) for (const p of ports) p.name = `${(p.protocol ?? 'TCP').toLowerCase()}-${p.port}`;
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: toDns1035Label(app), labels: { app } },
      spec: { type: published ? 'NodePort' : 'ClusterIP', selector: { app }, ports },
    };
  }

  result(header: string[]): GenerateResult {
    const objects: GeneratedObject[] = [...[...this.claims.values()].map((object) => ({ object, comments: [] as string[] })), ...this.objects];
    const problems: KubeProblem[] = [];
    objects.forEach(({ object }, i) => {
      for (const p of objectProblems(object.kind as Kind, object)) problems.push({ document: i + 1, kind: object.kind, name: object.metadata?.name ?? '', ...p });
    });
    if (problems.length) throw kubeError(problems, 'kube generate: the result would be rejected by a cluster');
    const yaml = objects
      .map(({ object, comments }, i) => [...(i === 0 ? header : []).map((l) => `# ${l}`), '---', ...comments.map((l) => `# ${l}`), toYaml(object as unknown as Json).trimEnd()].join('\n'))
      .join('\n');
    return { objects, yaml: `${yaml}\n`, warnings: this.warnings.list };
  }
}

const HEADER = ['Generated by skiff kube generate.', 'Run it with `skiff kube play FILE`, or in a cluster with `kubectl create -f FILE`.'];

/** Kubernetes objects for containers (one workload each). */
export function generateFromContainers(inputs: readonly DockerContainerInput[], opts: GenerateOptions = {}): GenerateResult {
  const g = new Generator(opts);
  const taken = new Set<string>();
  for (const input of inputs) {
    const spec = containerFromRecord(input);
    const name = toDnsLabel(spec.name);
    if (taken.has(name)) throw kubeError([{ path: '', message: `containers named ${JSON.stringify(spec.name)} and another would both be ${name}` }], 'kube generate');
    taken.add(name);
    g.add({ spec, comments: [] });
  }
  return g.result(HEADER);
}

/** Kubernetes objects for a compose project's services (all active ones, or those named), dependencies first. */
export function generateFromCompose(project: Project, opts: GenerateOptions & { services?: string[] } = {}): GenerateResult {
  const g = new Generator(opts);
  const wanted = opts.services && opts.services.length ? new Set(opts.services) : undefined;
  for (const name of serviceNames(project)) {
    if (wanted && !wanted.has(name)) continue;
    const s = project.services[name]!;
    const spec = containerFromService(project, s, (w) => g.warnings.add(w));
    const comments = Object.entries(s.dependsOn).map(
      ([dep, d]) =>
        `${name} depends on ${dep} (${d.condition}${d.required ? '' : ', optional'}): Kubernetes has no depends_on and starts every object at once;` +
        ` ${dep} comes first in this file${d.condition === 'service_healthy' ? ', and its readinessProbe tells when it is ready' : ''}.`,
    );
    g.add({ spec, replicas: s.replicas, comments });
  }
  return g.result([...HEADER, `From the compose project ${project.name}.`]);
}
