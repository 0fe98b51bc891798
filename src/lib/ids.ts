/** Docker's ids and names of objects: containers, volumes and networks share them. */
import { randomHex } from './random.js';

/** Docker's restricted name pattern (a container's, a volume's). */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A new 64-hex id (a container's, an anonymous volume's name). */
export function newId(): string {
  return randomHex(32);
}
