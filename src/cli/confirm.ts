/** Docker's prune prompt: asked only on a terminal; yes is `y` or `yes`. */
import { lazyBuiltin } from '../lib/lazy.js';
import type { CommandContext } from './command.js';

/** Only the prune commands ask (~1-2 ms to load for every other command). */
const readlinePromises = lazyBuiltin<typeof import('node:readline/promises')>('node:readline/promises');

/** true when the user agreed, or when stdin is no terminal (nobody to ask: as before, go ahead). */
export async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  if (!ctx.stdin.isTTY) return true;
  const rl = readlinePromises().createInterface({ input: ctx.stdin, output: ctx.stdout });
  const answer = await rl.question(question);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
