/**
 * Network backends: how a container gets its network. Rootful containers join bridge networks
 * (bridge.ts: native netlink and nf_tables in the shim, aardvark-dns for names); rootless ones get
 * pasta (pasta.ts). A backend prepares (allocates, plans) before the shim starts, the shim executes
 * the plan at its network step (or setup() does it now, for `network connect` and tests), and
 * teardown/sweep undo it, the latter for containers whose holder died. Which one a store uses:
 * backends.ts (kept apart so that the backends import this interface and nothing imports back).
 */
import type { Holder, Lease, Liveness } from './ipam.js';
import type { NetworkPlan } from './plan.js';
import type { Forward } from './ports.js';
import type { SetupHandle } from './shim.js';
import type { NetworkRecord } from './store.js';

export interface AttachRequest {
  network: NetworkRecord;
  /** --network-alias (user-defined networks) */
  aliases: string[];
  /** --ip */
  staticIp?: number;
  /** --mac-address */
  mac?: string;
}

export interface SetupRequest {
  containerId: string;
  name: string;
  /** the first one carries the default route and the published ports */
  networks: AttachRequest[];
  forwards: Forward[];
  /** the process that will hold the network (the CLI that becomes the shim, or the monitor) */
  holder: Holder;
  /** extra liveness of leases beyond their holder (phase B: "the container runs") */
  live?: Liveness;
}

export interface Prepared {
  plan: NetworkPlan;
  leases: { network: string; lease: Lease }[];
  /** leases of containers gone without teardown, found on the way: tear them down (sweep) */
  stale: { network: string; lease: Lease }[];
  /** how the container's resolv.conf is made (resolv.ts) */
  resolv: { mode: 'legacy' | 'internal'; internalNs?: string };
  /** what --add-host NAME:host-gateway means here */
  hostGateway: string;
  /** the container's addresses, for its /etc/hosts */
  addresses: string[];
}

export interface SweepOptions {
  wait?: boolean;
}

export interface NetworkBackend {
  readonly name: 'bridge' | 'pasta';
  prepare(req: SetupRequest): Promise<Prepared>;
  /** Execute a prepared plan now, for the namespace of `target` (pid, or netns file for bridge plans). */
  setup(prepared: Prepared, target: number | string): Promise<SetupHandle>;
  /** Undo a container's setup outside its namespace and free its addresses (all its networks, or these). Idempotent. */
  teardown(containerId: string, networks?: string[]): Promise<void>;
  /**
   * Tear down every stale lease's container; returns the container ids cleaned. A container whose
   * final teardown is still under way in its shim's child is waited for, or with `wait: false` (a
   * start, which needs none of it) left to a later sweep.
   */
  sweep(live?: Liveness, opts?: SweepOptions): Promise<string[]>;
}
