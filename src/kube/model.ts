/**
 * A container in Docker's terms, the middle of both directions: `generate` turns container records and
 * compose services into it and it into Kubernetes objects; `play` turns Kubernetes objects into it (what
 * skiff's create functions take). The round trip `play(generate(x))` gives back the same values.
 */
import type { HealthConfig, RestartPolicy } from '../store/containers.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface PortSpec {
  containerPort: number;
  protocol: Protocol;
  /** Published on the host at this port (0: any free port); undefined: not published. */
  hostPort?: number;
  /** Host address to publish on; undefined: all. */
  hostIp?: string;
  /** Kubernetes' port name (play: what Services' named targetPorts refer to). */
  name?: string;
}

/** hostPath's checks before mounting ('' = none). */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/** A file `play` writes for a configMap or secret volume (path relative to the volume, no `..`). */
export interface FileSpec {
  path: string;
  content: Buffer;
  /** Permission bits (Kubernetes' default 0644). */
  mode: number;
}

export type MountSpec =
  /** A named volume (generate: a PersistentVolumeClaim; play: a claim's volume, or a pod's emptyDir). */
  | { type: 'volume'; name: string; target: string; readOnly: boolean; subPath?: string; ephemeral?: boolean }
  /** A host path (hostPath). */
  | { type: 'bind'; source: string; target: string; readOnly: boolean; hostPathType?: HostPathType; subPath?: string }
  /** tmpfs (emptyDir with medium Memory). */
  | { type: 'tmpfs'; target: string; sizeBytes?: number; mode?: number }
  /** An anonymous volume (generate: an emptyDir on disk). */
  | { type: 'anonymous'; target: string; readOnly: boolean }
  /**
   * play: files of a configMap or secret volume, written into the pod's volume `volume` (made and removed
   * with the pod) and mounted read-only.
   */
  | { type: 'files'; volume: string; source: { kind: 'ConfigMap' | 'Secret'; name: string }; target: string; subPath?: string; files: FileSpec[]; readOnly: true };

export interface ContainerSpec {
  name: string;
  image: string;
  /** Docker's ENTRYPOINT; undefined: the image's; []: none (the image's is not used). */
  entrypoint?: string[];
  /** Docker's CMD; undefined: the image's. */
  cmd?: string[];
  /** In order. */
  env: Record<string, string>;
  ports: PortSpec[];
  mounts: MountSpec[];
  /** Bytes (Docker's Memory / Kubernetes' limits.memory). */
  memory?: number;
  /** Bytes (Docker's MemoryReservation / Kubernetes' requests.memory). */
  memoryReservation?: number;
  /** Docker's NanoCpus (Kubernetes' limits.cpu). */
  nanoCpus?: number;
  /** Docker's CpuShares (play: from requests.cpu, the kubelet's formula). */
  cpuShares?: number;
  pidsLimit?: number;
  /** Docker's healthcheck, durations in nanoseconds. */
  healthcheck?: HealthConfig & { StartInterval?: number };
  restart: RestartPolicy;
  user?: string;
  workingDir?: string;
  labels: Record<string, string>;
  capAdd: string[];
  capDrop: string[];
  readOnlyRootfs: boolean;
  privileged: boolean;
  /** no-new-privileges (Kubernetes' allowPrivilegeEscalation: false). */
  noNewPrivileges: boolean;
  tty: boolean;
  stdin: boolean;
  init: boolean;
  autoRemove: boolean;
  stopSignal?: string;
  /** Seconds between the stop signal and SIGKILL (Kubernetes' terminationGracePeriodSeconds). */
  stopTimeout?: number;
  hostname?: string;
}

/** Docker's defaults for what a spec does not say. */
export function emptyContainer(name: string, image: string): ContainerSpec {
  return {
    name,
    image,
    env: {},
    ports: [],
    mounts: [],
    restart: { Name: 'no', MaximumRetryCount: 0 },
    labels: {},
    capAdd: [],
    capDrop: [],
    readOnlyRootfs: false,
    privileged: false,
    noNewPrivileges: false,
    tty: false,
    stdin: false,
    init: false,
    autoRemove: false,
  };
}
