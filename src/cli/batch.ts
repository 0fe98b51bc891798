/**
 * Batch verbs (`rm a b c`, `stop a b`) act on every item and return one report per item; the CLI
 * prints each success on stdout and each failure as one `Error: ...` line, as it comes, and fails
 * with the last error's exit code (Docker's behaviour; cli/main.ts).
 */
import { SkiffError } from '../errors.js';
import type { ItemReport } from './command.js';
import type { ContainerRecord } from '../store/containers.js';

/** One report per item, each made when the printer asks for it (so output appears as the work goes). */
export async function* eachItem(items: readonly string[], fn: (item: string) => Promise<string>): AsyncGenerator<ItemReport> {
  for (const item of items) {
    try {
      yield { item, out: await fn(item) };
    } catch (error) {
      yield { item, error };
    }
  }
}

/** `eachItem` over containers named on the command line: `act` gets each one's record; a success prints the name as given. */
export function eachContainer(refs: readonly string[], act: (rec: ContainerRecord) => Promise<unknown>): AsyncGenerator<ItemReport> {
  return eachItem(refs, async (ref) => {
    // the store's modules are loaded when a verb runs, not by every command that imports this one
    const { findContainer } = await import('../store/containers.js');
    await act(findContainer(ref));
    return ref;
  });
}

/** Podman's --ignore: reports of names that are no container are passed over (the others as they come). */
export async function* ignoringMissing(reports: AsyncIterable<ItemReport>, ignore: boolean): AsyncGenerator<ItemReport> {
  for await (const r of reports) {
    if (ignore && 'error' in r && r.error instanceof SkiffError && r.error.code === 'ENOCONTAINER') continue;
    yield r;
  }
}
