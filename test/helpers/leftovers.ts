/**
 * What a container can leave on the host: mounts (its overlay, binds onto its rootfs: all name paths
 * of the store) and processes (the shim's command line names its bundle in the store). Only what names
 * this test's store is looked at, so other work on the machine (other containers, benchmarks) does
 * not disturb the comparison.
 */
import { processes, until, type TempStore } from './fixtures.js';
import fs from 'node:fs';

const mentions = (s: string, store: TempStore): boolean => s.includes(store.root) || s.includes(store.runroot);

/** The host's mount table lines that mention the store, sorted. */
export function storeMounts(store: TempStore): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => mentions(l, store)).sort();
}

/** "PID CMDLINE" of every process whose command line mentions the store. */
export const storeProcesses = (store: TempStore): string[] => processes((cmd) => mentions(cmd, store));

/**
 * storeProcesses() once the --rm deleter is done: after a --rm container the shim hands the deletion of
 * its files to a detached child that ends by itself (a few ms; longer rootless, inside the user
 * namespace). Polls for up to `ms`; whatever is still there then is a leftover.
 */
export async function storeProcessesSettled(store: TempStore, ms = 10_000): Promise<string[]> {
  return until('the --rm deleter to end', () => storeProcesses(store).length === 0 && [], ms).catch(() => storeProcesses(store));
}

/** Everything of a store a container can leave: records, name links, volumes, staging, mounts, processes, cgroups. */
export interface StoreSnapshot {
  containers: string[];
  names: string[];
  volumes: string[];
  staging: string[];
  mounts: string[];
  processes: string[];
  cgroups: string[];
}

const list = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

/**
 * The cgroup dirs skiff makes for containers, with nothing in them: rootless, those under the group
 * scripts/test.sh delegated to this run (SKIFF_TEST_CGROUP); rootful, `skiff/<id>` under each mounted
 * hierarchy (shared with other skiff runs on the machine: compare snapshots, in-flight ones settle).
 */
function emptyContainerCgroups(): string[] {
  const parents: string[] = [];
  if (process.env.SKIFF_TEST_ROOTLESS === '1') {
    if (process.env.SKIFF_TEST_CGROUP) parents.push(process.env.SKIFF_TEST_CGROUP);
  } else {
    for (const h of list('/sys/fs/cgroup')) parents.push(`/sys/fs/cgroup/${h}/skiff`);
  }
  const out: string[] = [];
  for (const p of parents) {
    for (const d of list(p)) {
      if (!/^(skiff-)?[0-9a-f]{64}$/.test(d)) continue;
      try {
        if (fs.readFileSync(`${p}/${d}/cgroup.procs`, 'utf8').trim() === '') out.push(`${p}/${d}`);
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return out.sort();
}

export function storeSnapshot(store: TempStore): StoreSnapshot {
  const c = `${store.root}/containers`;
  return {
    containers: list(c).filter((n) => /^[0-9a-f]{64}$/.test(n)),
    names: list(`${c}/names`),
    volumes: list(`${store.root}/volumes`),
    staging: list(`${store.root}/tmp`),
    mounts: storeMounts(store),
    processes: storeProcesses(store),
    cgroups: emptyContainerCgroups(),
  };
}

/**
 * Waits (up to `ms`) until the store holds nothing that `before` lacked and returns what it still
 * holds then (nothing: {}). The --rm deleter and a monitor's last steps run after the CLI returned;
 * what is still there after the wait is a leftover. (What went meanwhile, e.g. an earlier test's
 * deleter finishing, is no leftover.) Cgroups: only empty ones count (other runs make their own).
 */
export async function leftSince(store: TempStore, before: StoreSnapshot, ms = 10_000): Promise<Partial<StoreSnapshot>> {
  const diff = (): Partial<StoreSnapshot> => {
    const now = storeSnapshot(store);
    const out: Partial<StoreSnapshot> = {};
    for (const k of Object.keys(now) as (keyof StoreSnapshot)[]) {
      const extra = now[k].filter((x) => !before[k].includes(x));
      if (extra.length) out[k] = extra;
    }
    return out;
  };
  return until('the store to settle', () => (Object.keys(diff()).length === 0 ? {} : undefined), ms).catch(() => diff());
}
