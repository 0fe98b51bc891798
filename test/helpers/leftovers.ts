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
