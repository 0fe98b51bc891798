/**
 * Node builtins that are costly to load (node:crypto ~4 ms, node:child_process ~2-4 ms on this
 * machine) and that the run path (`skiff run`) does not need: loaded at first use instead of at
 * start-up. `import()` is not an option here: bin/skiff compiles the bundle with vm.Script,
 * which has no loader for it.
 */
import { createRequire } from 'node:module';

// made at the first load too (~0.2-0.3 ms): every command evaluates this module, few load through it
let load: NodeJS.Require | undefined;

export function lazyBuiltin<T>(id: `node:${string}`): () => T {
  let mod: T | undefined;
  return () => (mod ??= (load ??= createRequire(import.meta.url))(id) as T);
}

export const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
export const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');
