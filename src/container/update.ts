/**
 * `update`: change a container's cgroup limits (resources.ts UPDATABLE) — in its record (inspect), in
 * its spec (skiff.cgroupWrites: every later start), and, while it runs, in its cgroups at once — and
 * its restart policy (record and spec's skiff.monitor.restart, which a running monitor reads again
 * after each exit).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { SkiffError, describeError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { containerFiles, updateHostConfig, type ContainerRecord } from '../store/containers.js';
import { withLock } from '../store/lock.js';
import { containerCgroups, groupsOfDirs } from './cgroup.js';
import { parseRestartPolicy } from './options.js';
import { limitWrites, ociResources, parseResources, resourcesOf, UPDATABLE, type ResourceConfig, type ResourceOptions } from './resources.js';
import type { OciSpec } from './spec.js';
import { containerState } from './state.js';

/** Write [file, value] pairs; a v1 memory limit and its memsw limit must keep limit <= memsw, so a write
    the kernel refuses is tried again after the others. */
function writeAll(writes: [string, string][], id: string): void {
  let pending = writes;
  for (let pass = 0; pending.length; pass++) {
    const failed: [string, string, unknown][] = [];
    for (const [file, value] of pending) {
      try {
        fs.writeFileSync(file, value);
      } catch (e) {
        failed.push([file, value, e]);
      }
    }
    if (failed.length === pending.length || pass > 0) {
      if (!failed.length) return;
      const [file, value, e] = failed[0]!;
      throw new SkiffError('ERUNTIME', `Cannot update container ${id}: write ${value} to ${file}: ${describeError(e)}`);
    }
    pending = failed.map(([f, v]) => [f, v]);
  }
}

/** The limits and `--restart` (Docker's syntax) as given. */
export type UpdateOptions = ResourceOptions & { restart?: string };

export async function updateContainer(rec: ContainerRecord, o: UpdateOptions, warn: (line: string) => void): Promise<void> {
  const hc = rec.HostConfig;
  const restart = o.restart === undefined ? undefined : parseRestartPolicy(o.restart);
  if (restart && restart.Name !== 'no' && hc.AutoRemove) {
    throw new SkiffError('EINVAL', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  // --memory-swap alone keeps the memory limit the container has; a new memory limit keeps its swap limit
  const given = parseResources({ ...o, memory: o.memory ?? (o.memorySwap !== undefined && hc.Memory ? String(hc.Memory) : undefined) }, warn);
  const patch: ResourceConfig = {};
  for (const k of UPDATABLE) if (given[k] !== undefined) Object.assign(patch, { [k]: given[k] });
  if (o.memory !== undefined && o.memorySwap === undefined) {
    if (hc.MemorySwap && hc.MemorySwap > 0 && patch.Memory! > hc.MemorySwap) {
      throw new SkiffError('EINVAL', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    if (hc.MemorySwap) patch.MemorySwap = hc.MemorySwap;
  }
  if (!Object.keys(patch).length && !restart) throw new SkiffError('EINVAL', 'you must provide one or more flags when using this command');
  await withLock(`container-${rec.Id}`, async () => {
    const st = containerState(rec);
    if (st.Running && st.Pid) {
      const plan = limitWrites(patch, containerCgroups(st.Pid, rec.Id), { fresh: false });
      if (plan.refused.length) throw new SkiffError('ERUNTIME', `Cannot update container ${rec.Id}: ${plan.refused[0]}`);
      writeAll(plan.writes, rec.Id);
    }
    const next = await updateHostConfig(rec.Id, { ...patch, ...(restart ? { RestartPolicy: restart } : {}) });
    const f = containerFiles(rec.Id);
    const spec = JSON.parse(await fsp.readFile(f.spec, 'utf8')) as OciSpec;
    const limits = resourcesOf(next.HostConfig);
    const dirs = spec.skiff.cgroups ?? [];
    const { writes, refused } = limitWrites(limits, groupsOfDirs(dirs), { fresh: true, why: dirs.length ? undefined : 'the container has no cgroup of its own' });
    if (!st.Running) refused.forEach(warn);
    spec.skiff.cgroupWrites = writes;
    spec.linux.resources = { devices: spec.linux.resources.devices, ...ociResources(limits) };
    // a running monitor reads it again after the container's next exit
    if (restart) spec.skiff.monitor.restart = { policy: restart.Name, maxRetries: restart.MaximumRetryCount };
    await writeFileAtomic(f.spec, JSON.stringify(spec), 0o644);
  });
}
