/**
 * Rootless user-defined networks live in one network namespace per store (Podman's "rootless
 * netns"): `skiff-shim netns` (addon/shim/cmd_netns.c) makes it on demand, kept by a holder process
 * with pasta attached (outbound), and runs
 * a command inside it as root of its user namespace; published ports get a pasta per container from
 * the holder (forwardSocket). The CLI runs itself again there for commands
 * that start or connect containers on user networks: the rootful bridge backend (bridges, veths,
 * nf_tables, aardvark-dns) then works unchanged inside it, and the containers' user namespaces are
 * children of its own. The holder ends with the last process in the namespace (the last container's
 * shim or monitor, aardvark-dns), and removes its files under the runroot.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { native, shimPath } from '../native.js';
import { dnsConfigDir } from '../store/layout.js';
import { formatMap, rootlessMappings } from '../userns/idmap.js';
import { checkTun, icmpArgs, pastaPath } from './pasta.js';

/** Whether this process runs inside the store's rootless network namespace. */
export function inNetns(): boolean {
  return process.env._SKIFF_IN_NETNS === '1';
}

export function netnsDir(): string {
  return path.join(paths().runroot, 'netns');
}

/**
 * The holder's socket for published ports: a container's shim hands it the container's network
 * namespace and the ports, and the holder runs a pasta in the host's network namespace that binds
 * them and splices their connections to the container's loopback, until the shim lets go.
 */
export function forwardSocket(): string {
  return path.join(netnsDir(), 'ports.sock');
}

/** Whether the holder of the rootless network namespace runs (its pid file names a live process in another network namespace). */
export function netnsRunning(): boolean {
  try {
    const [pid, ino] = fs.readFileSync(path.join(netnsDir(), 'pid'), 'utf8').trim().split(' ');
    return String(fs.statSync(`/proc/${Number(pid)}/ns/net`).ino) === ino;
  } catch {
    return false;
  }
}

/** The argv of `skiff-shim netns` running `cmd` inside the namespace (made if needed). */
export function netnsArgv(cmd: string[]): string[] {
  checkTun();
  const m = rootlessMappings();
  // outbound only: published ports get a pasta each (forwardSocket)
  const pasta = ['--config-net', '-q', ...icmpArgs(), '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none'];
  return ['skiff-shim', 'netns', netnsDir(), formatMap(m.uidMappings), formatMap(m.gidMappings), pastaPath(), ...pasta, '--', ...cmd];
}

/** The environment of a CLI run inside (as skiff's user namespace has it: the host identity). */
function innerEnv(): string[] {
  const env = { ...process.env, _SKIFF_HOST_UID: String(process.getuid!()), _SKIFF_HOST_GID: String(process.getgid!()), _SKIFF_HOST_USER: os.userInfo().username };
  return Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`);
}

/** The command line (argv[0] `skiff-shim`) and environment of the CLI (same script, `argv`) run inside the rootless network namespace. */
export function netnsCommand(argv: string[]): { args: string[]; env: string[] } {
  return { args: netnsArgv([process.execPath, '--', process.argv[1]!, ...argv]), env: innerEnv() };
}

/** Replace this process by the CLI (same script, `argv`) inside the rootless network namespace. */
export function reexecInNetns(argv: string[]): never {
  const { args, env } = netnsCommand(argv);
  return native().execve(shimPath(), args, env);
}

/**
 * Rootless, outside the namespace: run the command again inside it when `needed` (the command starts
 * or changes containers on user-defined networks). Inside it, or rootful, nothing happens.
 */
export function enterNetnsIf(needed: boolean, argv = process.argv.slice(2)): void {
  if (!needed || !paths().rootless || inNetns() || process.getuid!() === 0) return;
  reexecInNetns(argv);
}

/**
 * How the shim's teardown of bridge plans runs here: directly ([]), through `skiff-shim netns`
 * (rootless outside the namespace while its holder runs), or not at all (undefined: rootless and no
 * holder runs, so the namespace and everything in it are gone; aardvark-dns's files go here).
 */
export function teardownVia(): string[] | undefined {
  if (!paths().rootless || inNetns()) return [];
  if (!netnsRunning()) {
    fs.rmSync(dnsConfigDir(), { recursive: true, force: true });
    return undefined;
  }
  // skiff's own user namespace (rootless store work) cannot join it: the lease stays for a later sweep
  if (process.env._SKIFF_IN_USERNS === '1') throw new SkiffError('ERUNTIME', 'the rootless network namespace cannot be reached from this command: run skiff network ls to clean up');
  return netnsArgv([]);
}

/** Whether `--network` values name a user-defined network (not bridge, host, none, container:X). */
export function namesUserNetwork(names: readonly string[]): boolean {
  return names.some((n) => !['', 'bridge', 'default', 'host', 'none'].includes(n) && !n.startsWith('container:'));
}

/** Whether any of these containers (by name or id; unknown ones count as not) is on a user-defined network. */
export async function onUserNetworks(refs: readonly string[]): Promise<boolean> {
  if (!paths().rootless || inNetns()) return false;
  const { findContainer } = await import('../store/containers.js');
  return refs.some((r) => {
    try {
      return namesUserNetwork(Object.keys(findContainer(r).Networks ?? {}));
    } catch {
      return false;
    }
  });
}
