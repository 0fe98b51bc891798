/**
 * skiff's own annotations: what a Docker container has and Kubernetes has no field for, kept on the
 * Pod (or the Deployment's pod template) so that `kube play` of a generated file gives the container
 * back. As podman's `io.podman.annotations.*`, per-container keys end in `/CONTAINER` (the container's
 * name in the pod, a DNS-1123 label, so the key stays a valid qualified name); values are strings.
 * A cluster ignores them.
 */

export const ANNOTATION_PREFIX = 'io.skiff.';

export const A = {
  /** Docker's restart policy when Kubernetes' pod-level one says less: `on-failure:3`, `unless-stopped`. */
  restart: 'io.skiff.restart',
  /** Docker's STOPSIGNAL (`SIGQUIT`): Kubernetes always sends SIGTERM (it has no per-container signal). */
  stopSignal: 'io.skiff.stop-signal',
  /** `--init`: "true". */
  init: 'io.skiff.init',
  /** `--rm`: "true". */
  autoRemove: 'io.skiff.autoremove',
  /** A user name (not numeric): securityContext takes numeric ids only. */
  user: 'io.skiff.user',
  /** Docker's healthcheck as JSON, when the probes' whole seconds cannot say it exactly (or it has a start interval). */
  healthcheck: 'io.skiff.healthcheck',
  /** Labels that are not valid Kubernetes labels (keys or values), as a JSON object. */
  labels: 'io.skiff.labels',
  /** Docker's pids limit (Kubernetes sets it per node, not per container). */
  pidsLimit: 'io.skiff.pids-limit',
  /** The engine's name of a named volume that is not a valid claim name (`app_data` → claim `app-data`); on the PVC. */
  volumeName: 'io.skiff.volume-name',
} as const;

/** `io.skiff.restart/web`. */
export function containerKey(key: string, container: string): string {
  return `${key}/${container}`;
}
