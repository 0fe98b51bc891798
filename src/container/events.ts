/** A container's events (src/store/events.ts): Docker's attributes (the labels, image, name) and the shim's part (skiff.events). */
import path from 'node:path';
import { containerFiles, type ContainerRecord } from '../store/containers.js';
import { eventLogPath, recordEvent } from '../store/events.js';

/** Docker's container event attributes: every label, then image (as the user named it) and name. */
export function containerAttributes(rec: ContainerRecord): Record<string, string> {
  return { ...(rec.Config.Labels ?? {}), image: rec.ImageName, name: rec.Name };
}

export function containerEvent(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  recordEvent('container', action, rec.Id, { ...containerAttributes(rec), ...extra });
}

/** skiff.events of the spec: where the shim appends die/oom/start/destroy, and what it says. */
export function shimEvents(rec: ContainerRecord): { file: string; record: string; id: string; attributes: Record<string, string> } {
  return { file: eventLogPath(), record: path.join(containerFiles(rec.Id).dir, 'config.json'), id: rec.Id, attributes: containerAttributes(rec) };
}
