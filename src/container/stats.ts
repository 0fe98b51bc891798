/**
 * `stats`: one sample of a container's counters from its cgroups (v1 or v2 controller files), with
 * /proc of its processes for what no cgroup gives (rootless: often no cgroup, or a v2 group without
 * controllers). CPU % needs two samples, as Docker's (the previous one is `pre`).
 */
import type { ContainerRecord } from '../store/containers.js';
import { cgroupCounters, containerCgroups } from './cgroup.js';
import { hostMemory, namespacePids, netCounters, procCounters, systemCpu } from './procs.js';
import { containerState } from './state.js';

export interface StatsSample {
  id: string;
  name: string;
  running: boolean;
  /** container CPU time and the host's total CPU time, ns */
  cpuNs: number;
  systemNs: number;
  cpus: number;
  memUsage: number;
  memLimit: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
}

export function sampleStats(rec: ContainerRecord): StatsSample {
  const st = containerState(rec);
  const sys = systemCpu();
  const base: StatsSample = {
    id: rec.Id, name: rec.Name, running: st.Running && st.Pid > 0, cpuNs: 0, systemNs: sys.ns, cpus: sys.cpus,
    memUsage: 0, memLimit: 0, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0, pids: 0,
  };
  if (!base.running) return base;
  const cg = cgroupCounters(containerCgroups(st.Pid, rec.Id));
  const pids = cg.procs ?? namespacePids(st.Pid);
  const needProc = cg.cpuNs === undefined || cg.memUsage === undefined || cg.blkRead === undefined;
  const pc = needProc ? procCounters(pids) : undefined;
  const net = rec.HostConfig.NetworkMode === 'host' ? { rx: 0, tx: 0 } : netCounters(st.Pid);
  const host = hostMemory();
  return {
    ...base,
    cpuNs: cg.cpuNs ?? pc!.cpuNs,
    memUsage: cg.memUsage ?? pc!.rss,
    memLimit: Math.min(cg.memLimit ?? host, host || Infinity),
    netRx: net.rx,
    netTx: net.tx,
    blkRead: cg.blkRead ?? pc!.readBytes,
    blkWrite: cg.blkWrite ?? pc!.writeBytes,
    pids: cg.pids ?? pids.length,
  };
}

/** Docker's CPU %: container CPU time over host CPU time between two samples, times the CPUs. */
export function cpuPercent(pre: StatsSample | undefined, cur: StatsSample): number {
  if (!pre || !cur.running) return 0;
  const cpu = cur.cpuNs - pre.cpuNs;
  const sys = cur.systemNs - pre.systemNs;
  return cpu > 0 && sys > 0 ? (cpu / sys) * cur.cpus * 100 : 0;
}
