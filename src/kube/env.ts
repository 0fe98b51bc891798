/**
 * A container's environment as Kubernetes builds it: `envFrom` sources first (ConfigMaps and Secrets,
 * with a prefix; keys that are not variable names are skipped, as the kubelet does with an event), then
 * `env` in order, later ones winning. `value`s expand `$(VAR)` references to variables defined before
 * them (`$$` is a `$`; an unknown reference stays as written); so do command and args, with the whole
 * environment. `valueFrom`: configMapKeyRef and secretKeyRef (a missing object or key is an error unless
 * `optional`), fieldRef (metadata.name/namespace/labels/annotations, spec.nodeName,
 * spec.serviceAccountName; status.podIP(s), status.hostIP(s) and metadata.uid are known only when the pod
 * runs: returned as `runtime` for the executor), resourceFieldRef (the container's limits and requests).
 */
import { formatPath } from '../compose/tree.js';
import type { Container, EnvVar } from './types.js';
import { envVarName } from './names.js';
import { quantityBytes, quantityNanoCpus, quantityValue } from './quantity.js';
import type { KubeProblem, KubeWarning } from './errors.js';

/** ConfigMaps and Secrets by name, their values decoded. */
export interface DataSources {
  configMaps: Map<string, Map<string, Buffer>>;
  secrets: Map<string, Map<string, Buffer>>;
}

export interface PodFacts {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeName: string;
  serviceAccountName: string;
}

export interface EnvResult {
  env: Record<string, string>;
  runtime: { name: string; fieldPath: string }[];
}

/** Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$$` → `$`, unknown references kept. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = lookup(name);
      out += v === undefined ? `$(${name})` : v;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

const RUNTIME_FIELDS = new Set(['status.podIP', 'status.podIPs', 'status.hostIP', 'status.hostIPs', 'metadata.uid']);

function fieldValue(path: string, pod: PodFacts): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'spec.nodeName':
      return pod.nodeName;
    case 'spec.serviceAccountName':
      return pod.serviceAccountName;
    default:
      return undefined;
  }
}

function resourceValue(c: Container, resource: string, divisor: string | number | undefined): string | undefined {
  const [section, what] = resource.split('.') as [string, string | undefined];
  const list = section === 'limits' ? c.resources?.limits : section === 'requests' ? c.resources?.requests : undefined;
  const q = list?.[what ?? ''];
  if (q === undefined) return undefined;
  if (what === 'cpu') {
    const d = quantityNanoCpus(divisor ?? 1) || 1e9;
    return String(Math.ceil((quantityNanoCpus(q) ?? 0) / d));
  }
  const d = quantityValue(divisor ?? 1) || 1;
  return String(Math.ceil((quantityBytes(q) ?? 0) / d));
}

export function resolveEnv(
  c: Container,
  path: (string | number)[],
  pod: PodFacts,
  data: DataSources,
  problem: (p: Omit<KubeProblem, 'document' | 'kind' | 'name'>) => void,
  warn: (w: KubeWarning) => void,
): EnvResult {
  const env: Record<string, string> = {};
  const runtime: EnvResult['runtime'] = [];
  (c.envFrom ?? []).forEach((src, i) => {
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref) return;
    const what = src.configMapRef ? 'configMap' : 'secret';
    const pool = src.configMapRef ? data.configMaps : data.secrets;
    const values = pool.get(ref.name ?? '');
    if (!values) {
      if (!ref.optional) problem({ path: formatPath([...path, 'envFrom', i, `${what}Ref`, 'name']), message: `${what} ${JSON.stringify(ref.name)} not found (and not optional)` });
      return;
    }
    for (const [k, v] of values) {
      const name = `${src.prefix ?? ''}${k}`;
      if (envVarName(name) !== undefined) {
        warn({ message: `container ${c.name}: ${what} ${ref.name} key ${JSON.stringify(k)} is not a valid variable name: skipped` });
        continue;
      }
      env[name] = v.toString('utf8');
    }
  });
  const lookup = (n: string): string | undefined => (Object.prototype.hasOwnProperty.call(env, n) ? env[n] : undefined);
  (c.env ?? []).forEach((e: EnvVar, i) => {
    const at = [...path, 'env', i];
    if (!e.valueFrom) {
      env[e.name] = expand(e.value ?? '', lookup);
      return;
    }
    const vf = e.valueFrom;
    const keyRef = vf.configMapKeyRef ?? vf.secretKeyRef;
    if (keyRef) {
      const what = vf.configMapKeyRef ? 'configMap' : 'secret';
      const values = (vf.configMapKeyRef ? data.configMaps : data.secrets).get(keyRef.name ?? '');
      const v = values?.get(keyRef.key);
      if (v === undefined) {
        if (!keyRef.optional) {
          const message = values ? `${what} ${JSON.stringify(keyRef.name)} has no key ${JSON.stringify(keyRef.key)} (and it is not optional)` : `${what} ${JSON.stringify(keyRef.name)} not found (and not optional)`;
          problem({ path: formatPath([...at, 'valueFrom', `${what}KeyRef`]), message });
        }
        return;
      }
      env[e.name] = v.toString('utf8');
    } else if (vf.fieldRef) {
      const fp = vf.fieldRef.fieldPath;
      if (RUNTIME_FIELDS.has(fp)) {
        runtime.push({ name: e.name, fieldPath: fp });
        return;
      }
      const v = fieldValue(fp, pod);
      if (v === undefined) problem({ path: formatPath([...at, 'valueFrom', 'fieldRef', 'fieldPath']), message: `field ${JSON.stringify(fp)} is not supported` });
      else env[e.name] = v;
    } else if (vf.resourceFieldRef) {
      const r = vf.resourceFieldRef;
      const v = resourceValue(c, r.resource, r.divisor);
      if (v === undefined) runtime.push({ name: e.name, fieldPath: `resource:${r.resource}` });
      else env[e.name] = v;
    }
  });
  return { env, runtime };
}
