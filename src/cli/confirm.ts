/** Docker's prune prompt: asked only on a terminal (a script's stdin is not asked); true to go on. */
import { lazyBuiltin } from '../lib/lazy.js';

/** Only a prompt loads it (~1-2 ms for every other command). */
const readlinePromises = lazyBuiltin<typeof import('node:readline/promises')>('node:readline/promises');

export async function confirmed(force: boolean, warning: string, question = 'Are you sure you want to continue? [y/N]'): Promise<boolean> {
  if (force || !process.stdin.isTTY) return true;
  const rl = readlinePromises().createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`${warning}\n${question} `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * Docker's PromptForConfirmation (`system prune`, `builder prune`): the question on stdout and one
 * line read from stdin, a terminal or not (`echo y | skiff system prune` goes on); the end of the
 * input is a no.
 */
export async function askConfirmation(warning: string): Promise<boolean> {
  const rl = readlinePromises().createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY) });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      rl.question(`${warning}\nAre you sure you want to continue? [y/N] `).then(resolve, () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
