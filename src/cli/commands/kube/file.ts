/** What `kube play` and `kube down` share: the file (or stdin) read and planned, warnings and progress on stderr. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandContext } from '../../command.js';
import type { KubePlan } from '../../../kube/index.js';
import type { KubeReporter } from '../../../kube/engine.js';

export async function readPlan(file: string, ctx: CommandContext, opts: { publishAll?: boolean; configMaps?: string[] } = {}): Promise<{ plan: KubePlan; file: string }> {
  const { SkiffError } = await import('../../../errors.js');
  const { planKube } = await import('../../../kube/index.js');
  const read = async (f: string): Promise<string> => {
    try {
      if (f !== '-') return fs.readFileSync(f, 'utf8');
      const chunks: Buffer[] = [];
      for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      throw new SkiffError('EINVAL', `cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const text = await read(file);
  const configMapFiles = [];
  for (const f of opts.configMaps ?? []) configMapFiles.push({ file: f, text: await read(f) });
  const plan = planKube(text, { file, nodeName: os.hostname(), configMapFiles, ...(opts.publishAll ? { publishAll: true } : {}) });
  return { plan, file: file === '-' ? '-' : path.resolve(file) };
}

export function kubeReporter(ctx: CommandContext, quiet = false): KubeReporter {
  return {
    event: (t) => {
      if (!quiet) ctx.stderr.write(`${t}\n`);
    },
    warn: (t) => ctx.stderr.write(`WARN[0000] ${t}\n`),
  };
}
