/** Errors and warnings of the compose loader: data, never printed here. */
import { SkiffError } from '../errors.js';

/** `docker compose` exits 1 on a bad project (invalid YAML, schema, interpolation, cycles, missing files). */
export const EXIT_COMPOSE = 1;

export function composeError(message: string): SkiffError {
  return new SkiffError('EINVAL', message, EXIT_COMPOSE);
}

/** A warning the CLI prints (Docker prints them on stderr as `WARN[0000] ...`). */
export interface ComposeWarning {
  /** Docker's words where Docker warns, otherwise ours. */
  message: string;
  /** The file it is about, when known. */
  file?: string;
}

/** Collects warnings once each (Docker warns once per unset variable). */
export class Warnings {
  readonly list: ComposeWarning[] = [];
  private readonly seen = new Set<string>();
  add(message: string, file?: string): void {
    const key = `${file ?? ''}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(file === undefined ? { message } : { message, file });
  }
}
