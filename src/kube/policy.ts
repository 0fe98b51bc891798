/**
 * Restart policies, security contexts and resources: Docker's container fields ↔ Kubernetes' fields,
 * both directions in one place.
 *
 * Restart: Docker's is per container, Kubernetes' per pod (`Always`, `OnFailure`, `Never`; default
 * `Always`). no → Never, always → Always, on-failure → OnFailure; unless-stopped (→ Always) and a retry
 * count (on-failure:3 → OnFailure) are kept in an annotation.
 * Security: USER `1000` / `1000:100` → runAsUser / runAsGroup (a name cannot be said: annotation);
 * capabilities as Kubernetes writes them (no `CAP_` prefix); read-only root, privileged,
 * no-new-privileges → allowPrivilegeEscalation: false.
 * Resources: Memory → limits.memory, NanoCpus → limits.cpu, MemoryReservation → requests.memory;
 * CpuShares ↔ requests.cpu with the kubelet's formula (shares = millicores × 1024 / 1000, at least 2).
 */
import type { RestartPolicy } from '../store/containers.js';
import type { PodSecurityContext, ResourceRequirements, SecurityContext } from './types.js';
import { cpuQuantity, memoryQuantity, quantityBytes, quantityNanoCpus } from './quantity.js';

export type KubeRestart = 'Always' | 'OnFailure' | 'Never';

/** Docker's `--restart` / compose's `restart:` words (`on-failure:3`); undefined when they are not. */
export function parseRestart(text: string): RestartPolicy | undefined {
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(text);
  return m ? { Name: m[1] as RestartPolicy['Name'], MaximumRetryCount: m[2] ? Number(m[2]) : 0 } : undefined;
}

export function restartToKube(r: RestartPolicy): { policy: KubeRestart; annotation?: string } {
  switch (r.Name) {
    case 'always':
      return { policy: 'Always' };
    case 'unless-stopped':
      return { policy: 'Always', annotation: 'unless-stopped' };
    case 'on-failure':
      return r.MaximumRetryCount > 0 ? { policy: 'OnFailure', annotation: `on-failure:${r.MaximumRetryCount}` } : { policy: 'OnFailure' };
    default:
      return { policy: 'Never' };
  }
}

/**
 * The annotation says Docker's policy where the pod's says less: it wins under `Always` (unless-stopped,
 * or any policy a Deployment had to turn into Always) and an `on-failure:N` under `OnFailure`; under
 * `Never` nothing restarts, whatever it says.
 */
export function restartFromKube(policy: string | undefined, annotation: string | undefined): RestartPolicy {
  const p = policy ?? 'Always';
  const a = annotation !== undefined ? parseRestart(annotation) : undefined;
  if (a && (p === 'Always' || (p === 'OnFailure' && a.Name === 'on-failure'))) return a;
  if (p === 'OnFailure') return { Name: 'on-failure', MaximumRetryCount: 0 };
  if (p === 'Never') return { Name: 'no', MaximumRetryCount: 0 };
  return { Name: 'always', MaximumRetryCount: 0 };
}

/** `CAP_NET_ADMIN`, `net_admin` → `NET_ADMIN` (`ALL` stays). */
export function capabilityName(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u.slice(4) : u;
}

export interface SecurityFields {
  user?: string;
  capAdd: string[];
  capDrop: string[];
  readOnlyRootfs: boolean;
  privileged: boolean;
  noNewPrivileges: boolean;
}

export function securityToKube(s: SecurityFields): { context?: SecurityContext; userAnnotation?: string } {
  const ctx: SecurityContext = {};
  let userAnnotation: string | undefined;
  if (s.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(s.user);
    if (m) {
      ctx.runAsUser = Number(m[1]);
      if (m[2] !== undefined) ctx.runAsGroup = Number(m[2]);
    } else {
      userAnnotation = s.user;
    }
  }
  if (s.capAdd.length || s.capDrop.length) {
    ctx.capabilities = {};
    if (s.capAdd.length) ctx.capabilities.add = s.capAdd.map(capabilityName);
    if (s.capDrop.length) ctx.capabilities.drop = s.capDrop.map(capabilityName);
  }
  if (s.privileged) ctx.privileged = true;
  if (s.readOnlyRootfs) ctx.readOnlyRootFilesystem = true;
  if (s.noNewPrivileges && !s.privileged) ctx.allowPrivilegeEscalation = false;
  return { ...(Object.keys(ctx).length ? { context: ctx } : {}), ...(userAnnotation ? { userAnnotation } : {}) };
}

/** The container's context over the pod's (Kubernetes' precedence); `user` from the annotation first. */
export function securityFromKube(c: SecurityContext | undefined, pod: PodSecurityContext | undefined, userAnnotation: string | undefined): SecurityFields & { runAsNonRoot: boolean; groupOnly?: number } {
  const uid = c?.runAsUser ?? pod?.runAsUser;
  const gid = c?.runAsGroup ?? pod?.runAsGroup;
  let user = userAnnotation;
  let groupOnly: number | undefined;
  if (user === undefined && uid !== undefined) user = gid !== undefined ? `${uid}:${gid}` : String(uid);
  else if (user === undefined && gid !== undefined) groupOnly = gid;
  const privileged = c?.privileged === true;
  return {
    ...(user !== undefined ? { user } : {}),
    ...(groupOnly !== undefined ? { groupOnly } : {}),
    capAdd: (c?.capabilities?.add ?? []).map(capabilityName),
    capDrop: (c?.capabilities?.drop ?? []).map(capabilityName),
    readOnlyRootfs: c?.readOnlyRootFilesystem === true,
    privileged,
    noNewPrivileges: c?.allowPrivilegeEscalation === false && !privileged,
    runAsNonRoot: (c?.runAsNonRoot ?? pod?.runAsNonRoot) === true,
  };
}

export interface ResourceFields {
  memory?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuShares?: number;
}

export function resourcesToKube(r: ResourceFields): ResourceRequirements | undefined {
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (r.nanoCpus) limits.cpu = cpuQuantity(r.nanoCpus);
  if (r.memory) limits.memory = memoryQuantity(r.memory);
  if (r.cpuShares) requests.cpu = `${Math.max(1, Math.round((r.cpuShares * 1000) / 1024))}m`;
  if (r.memoryReservation) requests.memory = memoryQuantity(r.memoryReservation);
  const out: ResourceRequirements = {};
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return Object.keys(out).length ? out : undefined;
}

/** Values the schema already checked as quantities. */
export function resourcesFromKube(r: ResourceRequirements | undefined): ResourceFields {
  const out: ResourceFields = {};
  const lim = r?.limits ?? {};
  const req = r?.requests ?? {};
  if (lim.memory !== undefined) out.memory = quantityBytes(lim.memory);
  if (lim.cpu !== undefined) out.nanoCpus = quantityNanoCpus(lim.cpu);
  if (req.memory !== undefined) out.memoryReservation = quantityBytes(req.memory);
  if (req.cpu !== undefined) {
    const milli = Math.ceil((quantityNanoCpus(req.cpu) ?? 0) / 1e6);
    out.cpuShares = Math.max(2, Math.floor((milli * 1024) / 1000));
  }
  for (const k of Object.keys(out) as (keyof ResourceFields)[]) if (out[k] === undefined) delete out[k];
  return out;
}
