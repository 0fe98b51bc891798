/** `inspect`, `image inspect`, `container inspect`: Docker's JSON array, or --format per item. */
import type { CommandModule } from 'yargs';
import { SkiffError, describeError } from '../../errors.js';
import { inspectImage } from '../../image/manage.js';
import { inspectContainer } from '../../container/list.js';
import { findContainer } from '../../store/containers.js';
import { compileTemplate } from '../output/template.js';
import { list } from './run-options.js';

type Kind = 'container' | 'image' | 'any';

async function inspectOne(ref: string, kind: Kind): Promise<Record<string, unknown>> {
  if (kind !== 'image') {
    try {
      return inspectContainer(findContainer(ref));
    } catch (e) {
      if (kind === 'container' || !(e instanceof SkiffError) || e.code !== 'ENOCONTAINER') throw e;
    }
  }
  try {
    return await inspectImage(ref);
  } catch (e) {
    if (e instanceof SkiffError && e.code === 'ENOIMAGE') {
      throw new SkiffError('ENOIMAGE', kind === 'image' ? `No such image: ${ref}` : `No such object: ${ref}`, 1);
    }
    throw e;
  }
}

/** Every `inspect`'s output: a JSON array (indent 4), or `--format` per item; exit 1 if one was not found. */
export function writeInspected(results: unknown[], format: string | undefined, failed: boolean): void {
  if (format && format !== 'json') {
    const t = compileTemplate(format);
    process.stdout.write(results.map((r) => t.render(r) + '\n').join(''));
  } else {
    process.stdout.write(JSON.stringify(results, null, 4) + '\n');
  }
  if (failed) process.exitCode = 1;
}

function inspectCommand(kind: Kind, command: string): CommandModule {
  return {
    command,
    describe: `Display detailed information on one or more ${kind === 'any' ? 'objects' : `${kind}s`}`,
    builder: (y) =>
      y.positional('name', { type: 'string', array: true }).option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' })
        .option('type', { type: 'string', hidden: kind !== 'any', describe: 'Only inspect objects of the given type' })
        .option('size', { alias: 's', type: 'boolean', hidden: true }),
    handler: async (a) => {
      const k: Kind = kind === 'any' && (a.type === 'image' || a.type === 'container') ? (a.type as Kind) : kind;
      const results: Record<string, unknown>[] = [];
      let failed: unknown;
      for (const ref of list(a.name)) {
        try {
          results.push(await inspectOne(ref, k));
        } catch (e) {
          failed = e;
          process.stderr.write(`Error: ${describeError(e)}\n`);
        }
      }
      writeInspected(results, a.format as string | undefined, failed !== undefined);
    },
  };
}

export const inspect = inspectCommand('any', 'inspect <name..>');
export const imageInspect = inspectCommand('image', 'inspect <name..>');
export const containerInspect = inspectCommand('container', 'inspect <name..>');
