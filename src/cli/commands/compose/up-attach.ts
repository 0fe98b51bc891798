/**
 * The foreground `up`: the containers' logs with their prefixes until every container has ended;
 * Ctrl-C stops the project gracefully (Docker's words), a second Ctrl-C kills it.
 * `--abort-on-container-exit` stops the others when one ends; `--exit-code-from` returns its code.
 */
import type { CommandContext, CommandOutput } from '../../command.js';
import type { Project } from '../../../compose/model.js';
import { whileHandlingInterrupts } from '../../../lib/interrupt.js';
import { reporter } from './project.js';
import { printLogs } from './streams.js';

export interface AttachOptions {
  prefix: boolean;
  timestamps: boolean;
  abortOnExit: boolean;
  exitCodeFrom?: string;
  timeout?: number;
}

export async function attachProject(ctx: CommandContext, project: Project, ids: string[], o: AttachOptions): Promise<CommandOutput> {
  const { readContainer } = await import('../../../store/containers.js');
  const { containerState } = await import('../../../container/state.js');
  const { stopContainer, killContainer } = await import('../../../container/lifecycle.js');
  const { L } = await import('../../../compose/engine/labels.js');
  const recs = ids.map((id) => readContainer(id)).filter((r) => r !== undefined);
  const { shortName } = await import('./project.js');
  ctx.stdout.write(`Attaching to ${recs.map((r) => shortName(project.name, r.Name)).join(', ')}\n`);
  const r = reporter(ctx);
  let stopping: Promise<void> | undefined;
  let interrupted = 0;
  const stopAll = (): Promise<void> =>
    (stopping ??= Promise.all(
      recs.map(async (rec) => {
        if (!containerState(rec).Running) return;
        r.event(`Container ${rec.Name}`, 'Stopping');
        await stopContainer(rec, o.timeout).catch(() => undefined);
        r.event(`Container ${rec.Name}`, 'Stopped');
      }),
    ).then(() => undefined));
  const onSigint = (): void => {
    interrupted++;
    if (interrupted === 1) {
      ctx.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      void stopAll();
    } else {
      for (const rec of recs) void killContainer(rec, 9).catch(() => undefined);
    }
  };
  let exitCode = 0;
  let aborted = false;
  await whileHandlingInterrupts(onSigint, async () => {
    await printLogs(ctx, project.name, recs, {
      follow: true,
      timestamps: o.timestamps,
      prefix: o.prefix,
      onEnd: async (rec, label) => {
        const st = containerState(rec);
        if (st.Running) return; // the log ended while the container lives (its monitor went): nothing to say
        ctx.stdout.write(`${label} exited with code ${st.ExitCode}\n`);
        if (o.exitCodeFrom !== undefined && rec.Config.Labels[L.service] === o.exitCodeFrom) exitCode = st.ExitCode;
        if (o.abortOnExit && !aborted && interrupted === 0) {
          aborted = true;
          if (o.exitCodeFrom === undefined) exitCode = st.ExitCode;
          ctx.stdout.write('Aborting on container exit...\n');
          await stopAll();
        }
      },
    });
    if (stopping) await stopping;
  });
  return { exitCode: interrupted ? 130 : exitCode };
}
