/**
 * An object of a kind skiff implements, checked as a cluster would: first the schema (schema.ts), then,
 * when the types are right, what the API server checks beyond it (a subset of its validation, for the
 * fields skiff reads or writes): names and keys, unique container/volume/port names, volumeMounts that
 * name a volume, ports in range, a Deployment's selector matching its template and its restartPolicy
 * Always, liveness successThreshold 1, Service ports, ConfigMap/Secret keys, a claim's access modes and
 * storage request.
 */
import { formatPath, type TreePath } from '../compose/tree.js';
import type { Kind, KubeObject, Container, PodSpec, Service, ConfigMap, Secret, PersistentVolumeClaim, Deployment, ObjectMeta } from './types.js';
import { schemaProblems, type SchemaProblem } from './schema.js';
import { configMapKey, dns1035Label, dns1123Label, dns1123Subdomain, envVarName, ianaServiceName, labelValue, qualifiedName, type Check } from './names.js';

class Checker {
  readonly out: SchemaProblem[] = [];
  constructor(private readonly lines: ReadonlyMap<string, number>) {}

  add(path: TreePath, message: string): void {
    const p = formatPath(path);
    let line = this.lines.get(p);
    for (let n = path.length - 1; line === undefined && n > 0; n--) line = this.lines.get(formatPath(path.slice(0, n)));
    this.out.push(line === undefined ? { path: p, message } : { path: p, line, message });
  }

  check(path: TreePath, value: string, c: Check, what = ''): void {
    const m = c(value);
    if (m) this.add(path, `${what}${JSON.stringify(value)}: ${m}`);
  }

  meta(m: ObjectMeta | undefined, nameCheck: Check, path: TreePath = ['metadata']): void {
    if (!m?.name) this.add([...path, 'name'], 'name is required');
    else this.check([...path, 'name'], m.name, nameCheck);
    this.labels(m?.labels, [...path, 'labels']);
    for (const k of Object.keys(m?.annotations ?? {})) this.check([...path, 'annotations', k], k, qualifiedName, 'key ');
    const size = Object.entries(m?.annotations ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > 256 * 1024) this.add([...path, 'annotations'], 'annotations must have at most 262144 bytes');
  }

  labels(l: Record<string, string> | undefined, path: TreePath): void {
    for (const [k, v] of Object.entries(l ?? {})) {
      this.check([...path, k], k, qualifiedName, 'key ');
      this.check([...path, k], v, labelValue, 'value ');
    }
  }

  port(path: TreePath, n: number | undefined, min = 1): void {
    if (n !== undefined && (n < min || n > 65535)) this.add(path, `must be between ${min} and 65535, inclusive`);
  }

  podSpec(spec: PodSpec | undefined, path: TreePath): void {
    if (!spec) {
      this.add(path, 'spec is required');
      return;
    }
    const volumes = new Set<string>();
    (spec.volumes ?? []).forEach((v, i) => {
      const p = [...path, 'volumes', i, 'name'];
      this.check(p, v.name, dns1123Label);
      if (volumes.has(v.name)) this.add(p, `Duplicate value: ${JSON.stringify(v.name)}`);
      volumes.add(v.name);
      const sources = Object.keys(v).filter((k) => k !== 'name');
      if (sources.length !== 1) this.add([...path, 'volumes', i], sources.length ? `may not specify more than 1 volume type (${sources.join(', ')})` : 'must specify a volume type');
    });
    if (!spec.containers || spec.containers.length === 0) this.add([...path, 'containers'], 'must have at least one container');
    const names = new Set<string>();
    const groups: ['initContainers' | 'containers', Container[]][] = [['initContainers', spec.initContainers ?? []], ['containers', spec.containers ?? []]];
    for (const [field, list] of groups) list.forEach((c, i) => this.container(c, [...path, field, i], names, volumes, field === 'initContainers'));
    if (spec.hostname !== undefined) this.check([...path, 'hostname'], spec.hostname, dns1123Label);
  }

  container(c: Container, path: TreePath, names: Set<string>, volumes: Set<string>, init: boolean): void {
    this.check([...path, 'name'], c.name, dns1123Label);
    if (names.has(c.name)) this.add([...path, 'name'], `Duplicate value: ${JSON.stringify(c.name)}`);
    names.add(c.name);
    if (!c.image) this.add([...path, 'image'], 'image is required');
    const portNames = new Set<string>();
    (c.ports ?? []).forEach((p, i) => {
      this.port([...path, 'ports', i, 'containerPort'], p.containerPort);
      this.port([...path, 'ports', i, 'hostPort'], p.hostPort || undefined);
      if (p.name !== undefined) {
        this.check([...path, 'ports', i, 'name'], p.name, ianaServiceName);
        if (portNames.has(p.name)) this.add([...path, 'ports', i, 'name'], `Duplicate value: ${JSON.stringify(p.name)}`);
        portNames.add(p.name);
      }
    });
    (c.env ?? []).forEach((e, i) => this.check([...path, 'env', i, 'name'], e.name, envVarName));
    const mountPaths = new Set<string>();
    (c.volumeMounts ?? []).forEach((m, i) => {
      if (!volumes.has(m.name)) this.add([...path, 'volumeMounts', i, 'name'], `Not found: ${JSON.stringify(m.name)} (no volume of the pod has this name)`);
      if (mountPaths.has(m.mountPath)) this.add([...path, 'volumeMounts', i, 'mountPath'], `must be unique: ${JSON.stringify(m.mountPath)}`);
      if (m.mountPath === '') this.add([...path, 'volumeMounts', i, 'mountPath'], 'mountPath is required');
      mountPaths.add(m.mountPath);
      if (m.subPath !== undefined && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) this.add([...path, 'volumeMounts', i, 'subPath'], "must be a relative path without '..'");
    });
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      const p = c[probe];
      if (!p) continue;
      if (init && c.restartPolicy !== 'Always') this.add([...path, probe], 'may not be set for init containers');
      if (probe !== 'readinessProbe' && p.successThreshold !== undefined && p.successThreshold !== 1) this.add([...path, probe, 'successThreshold'], 'must be 1');
      for (const f of ['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold'] as const) {
        if (p[f] !== undefined && p[f]! < 1) this.add([...path, probe, f], 'must be greater than or equal to 1');
      }
      if (p.initialDelaySeconds !== undefined && p.initialDelaySeconds < 0) this.add([...path, probe, 'initialDelaySeconds'], 'must be greater than or equal to 0');
    }
  }

  deployment(d: Deployment): void {
    const spec = d.spec;
    if (!spec) return this.add(['spec'], 'spec is required');
    if (spec.replicas !== undefined && spec.replicas < 0) this.add(['spec', 'replicas'], 'must be greater than or equal to 0');
    const sel = spec.selector?.matchLabels ?? {};
    const tl = spec.template.metadata?.labels ?? {};
    if (Object.keys(sel).length === 0 && (spec.selector?.matchExpressions ?? []).length === 0) this.add(['spec', 'selector'], 'empty selector is invalid for deployment');
    this.labels(sel, ['spec', 'selector', 'matchLabels']);
    for (const [k, v] of Object.entries(sel)) if (tl[k] !== v) this.add(['spec', 'template', 'metadata', 'labels'], '`selector` does not match template `labels`');
    this.labels(tl, ['spec', 'template', 'metadata', 'labels']);
    const rp = spec.template.spec?.restartPolicy;
    if (rp !== undefined && rp !== 'Always') this.add(['spec', 'template', 'spec', 'restartPolicy'], `Unsupported value: ${JSON.stringify(rp)}: supported values: "Always"`);
    this.podSpec(spec.template.spec, ['spec', 'template', 'spec']);
  }

  service(s: Service): void {
    const spec = s.spec ?? {};
    const ports = spec.ports ?? [];
    if (ports.length === 0 && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') this.add(['spec', 'ports'], 'must have at least one port');
    const names = new Set<string>();
    ports.forEach((p, i) => {
      this.port(['spec', 'ports', i, 'port'], p.port);
      this.port(['spec', 'ports', i, 'nodePort'], p.nodePort || undefined);
      if (typeof p.targetPort === 'number') this.port(['spec', 'ports', i, 'targetPort'], p.targetPort);
      else if (typeof p.targetPort === 'string') this.check(['spec', 'ports', i, 'targetPort'], p.targetPort, ianaServiceName);
      if (ports.length > 1 && !p.name) this.add(['spec', 'ports', i, 'name'], 'name is required when a Service has more than one port');
      if (p.name) {
        if (names.has(p.name)) this.add(['spec', 'ports', i, 'name'], `Duplicate value: ${JSON.stringify(p.name)}`);
        names.add(p.name);
      }
      if (p.nodePort && spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') this.add(['spec', 'ports', i, 'nodePort'], 'may not be used when `type` is ' + JSON.stringify(spec.type ?? 'ClusterIP'));
    });
    this.labels(spec.selector, ['spec', 'selector']);
  }

  data(m: ConfigMap | Secret, fields: ('data' | 'binaryData' | 'stringData')[]): void {
    const seen = new Set<string>();
    for (const f of fields) {
      for (const k of Object.keys((m as unknown as Record<string, object | undefined>)[f] ?? {})) {
        this.check([f, k], k, configMapKey, 'key ');
        if (f !== 'stringData' && seen.has(k)) this.add([f, k], `Duplicate key: ${JSON.stringify(k)} is in data and binaryData`);
        seen.add(k);
      }
    }
  }

  claim(c: PersistentVolumeClaim): void {
    if (!c.spec?.accessModes?.length) this.add(['spec', 'accessModes'], 'at least 1 access mode is required');
    if (c.spec?.resources?.requests?.storage === undefined && !c.spec?.volumeName) this.add(['spec', 'resources', 'requests', 'storage'], 'storage is required');
  }
}

/** Every problem of one object; empty when a cluster would take it. */
export function objectProblems(kind: Kind, obj: unknown, lines: ReadonlyMap<string, number> = new Map()): SchemaProblem[] {
  const fromSchema = schemaProblems(kind, obj, lines);
  if (fromSchema.length > 0) return fromSchema;
  const c = new Checker(lines);
  const o = obj as KubeObject;
  c.meta(o.metadata, kind === 'Service' ? dns1035Label : dns1123Subdomain);
  switch (kind) {
    case 'Pod':
      c.podSpec((o as { spec?: PodSpec }).spec, ['spec']);
      break;
    case 'Deployment':
      c.deployment(o as Deployment);
      break;
    case 'Service':
      c.service(o as Service);
      break;
    case 'ConfigMap':
      c.data(o as ConfigMap, ['data', 'binaryData']);
      break;
    case 'Secret':
      c.data(o as Secret, ['data', 'stringData']);
      break;
    case 'PersistentVolumeClaim':
      c.claim(o as PersistentVolumeClaim);
      break;
  }
  return c.out;
}
