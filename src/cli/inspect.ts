/** What every `inspect` prints: Docker's JSON array (indent 4), or `--format` per item; exit 1 if one was not found. */
import { describeError, SkiffError } from '../errors.js';
import type { CommandOutput } from './command.js';

export const KINDS = ['container', 'image', 'network', 'volume'] as const;
export type Kind = (typeof KINDS)[number] | 'any';

/** How each kind is found; a lookup that does not find one throws a SkiffError with one of `missing`. */
const FINDERS: Record<(typeof KINDS)[number], (ref: string, o: { size?: boolean }) => Promise<unknown>> = {
  container: async (ref, o) => {
    const [{ containerSize, inspectContainer }, { findContainer }] = await Promise.all([import('../container/list.js'), import('../store/containers.js')]);
    const rec = findContainer(ref);
    const json = inspectContainer(rec);
    if (!o.size) return json;
    // --size: SizeRw and SizeRootFs after GraphDriver, where Docker puts them
    const sizes = await containerSize(rec);
    const entries = Object.entries(json);
    const at = entries.findIndex(([k]) => k === 'GraphDriver') + 1 || entries.length;
    return Object.fromEntries([...entries.slice(0, at), ...Object.entries(sizes), ...entries.slice(at)]);
  },
  image: async (ref) => (await import('../image/manage.js')).inspectImage(ref),
  network: async (ref) => {
    const { findView, inspectNetwork } = await import('../network/manage.js');
    return inspectNetwork(findView(ref));
  },
  volume: async (ref) => (await import('../volume/volumes.js')).findVolume(ref),
};
const missing = new Set(['ENOCONTAINER', 'ENOIMAGE', 'ENONETWORK', 'ENOVOLUME']);

/** One object by name or id: of the kind asked for, or (kind `any`) the first kind that has it, in Docker's order. --size: a container's sizes. */
export async function inspectOne(ref: string, kind: Kind, o: { size?: boolean } = {}): Promise<unknown> {
  for (const k of kind === 'any' ? KINDS : [kind]) {
    try {
      return await FINDERS[k](ref, o);
    } catch (e) {
      if (!(e instanceof SkiffError) || !missing.has(e.code)) throw e;
      if (kind !== 'any') throw new SkiffError(e.code, `No such ${k}: ${ref}`, 1);
    }
  }
  throw new SkiffError('ENOIMAGE', `No such object: ${ref}`, 1);
}

/** Inspect each name with `one`: the found ones printed together, an `Error:` line for each other (exit 1). */
export async function inspected(names: readonly string[], format: string | undefined, one: (name: string) => unknown): Promise<CommandOutput> {
  const results: unknown[] = [];
  let stderr = '';
  for (const name of names) {
    try {
      results.push(await one(name));
    } catch (e) {
      stderr += `Error: ${describeError(e)}\n`;
    }
  }
  let stdout: string;
  if (format && format !== 'json') {
    const t = (await import('./output/template.js')).compileTemplate(format);
    const { goView } = await import('./output/go-view.js');
    stdout = results.map((r) => t.render(goView(r)) + '\n').join('');
  } else stdout = JSON.stringify(results, null, 4) + '\n';
  return { stderr, stdout, exitCode: stderr ? 1 : 0 };
}
