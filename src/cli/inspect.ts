/** What every `inspect` prints: Docker's JSON array (indent 4), or `--format` per item; exit 1 if one was not found. */
import { describeError, SkiffError } from '../errors.js';
import type { CommandOutput } from './command.js';

export type Kind = 'container' | 'image' | 'any';

/** One object by name or id: a container, an image, or (kind `any`) whichever exists. */
export async function inspectOne(ref: string, kind: Kind, o: { size?: boolean } = {}): Promise<Record<string, unknown>> {
  if (kind !== 'image') {
    const [{ containerSize, inspectContainer }, { findContainer }] = await Promise.all([import('../container/list.js'), import('../store/containers.js')]);
    try {
      const rec = findContainer(ref);
      const json = inspectContainer(rec);
      if (!o.size) return json;
      // --size: SizeRw and SizeRootFs after GraphDriver, where Docker puts them
      const sizes = await containerSize(rec);
      const entries = Object.entries(json);
      const at = entries.findIndex(([k]) => k === 'GraphDriver') + 1 || entries.length;
      return Object.fromEntries([...entries.slice(0, at), ...Object.entries(sizes), ...entries.slice(at)]);
    } catch (e) {
      if (kind === 'container' || !(e instanceof SkiffError) || e.code !== 'ENOCONTAINER') throw e;
    }
  }
  try {
    return await (await import('../image/manage.js')).inspectImage(ref);
  } catch (e) {
    if (e instanceof SkiffError && e.code === 'ENOIMAGE') {
      throw new SkiffError('ENOIMAGE', kind === 'image' ? `No such image: ${ref}` : `No such object: ${ref}`, 1);
    }
    throw e;
  }
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
    stdout = results.map((r) => t.render(r) + '\n').join('');
  } else stdout = JSON.stringify(results, null, 4) + '\n';
  return { stderr, stdout, exitCode: stderr ? 1 : 0 };
}
