/**
 * The containers Docker's daemon starts again when it starts (after a reboot): restart policy
 * `always`, or `unless-stopped` unless the user stopped it (the `stopped` marker of stop/kill), that
 * were started before and do not run now. `skiff system autostart` starts them; the oneshot units
 * contrib/systemd/{system,user}/skiff-restart.service run it at boot (Podman's podman-restart.service).
 */
import fs from 'node:fs';
import { containerFiles, listContainers, type ContainerRecord } from '../store/containers.js';
import { observeContainer, ZERO_TIME } from './state.js';

export function wouldRestart(rec: ContainerRecord): boolean {
  const policy = rec.HostConfig.RestartPolicy?.Name;
  if (policy !== 'always' && policy !== 'unless-stopped') return false;
  if (policy === 'unless-stopped' && fs.existsSync(containerFiles(rec.Id).stopped)) return false;
  const st = observeContainer(rec).State;
  return !st.Running && st.StartedAt !== ZERO_TIME && st.StartedAt !== '';
}

/** The ids of the containers to start, oldest first (the order they were created in). */
export function autostartContainers(): string[] {
  return listContainers()
    .filter(wouldRestart)
    .sort((a, b) => (a.Created < b.Created ? -1 : a.Created > b.Created ? 1 : 0))
    .map((r) => r.Id);
}
