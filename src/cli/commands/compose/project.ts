/**
 * What every `skiff compose` verb shares: the project its group options select (`ctx.group`, see
 * project-options.ts), Docker Compose's plain progress lines and warnings on stderr, the quiet pull,
 * and Docker Compose's exit code (1) for its failures.
 */
import type { CommandContext } from '../../command.js';
import { SkiffError } from '../../../errors.js';
import type { Project } from '../../../compose/model.js';
import type { Reporter, UpOptions } from '../../../compose/engine/engine.js';
import type { PullFn } from '../../../image/progress.js';

/** The project of the command line (its warnings printed as Docker's `WARN[0000]` lines). */
export async function loadFromContext(ctx: CommandContext): Promise<Project> {
  const { loadProject } = await import('../../../compose/index.js');
  const g = ctx.group;
  const project = loadProject({
    files: (g.file as string[] | undefined) ?? [],
    ...(g['project-name'] ? { projectName: g['project-name'] as string } : {}),
    ...(g['project-directory'] ? { projectDirectory: g['project-directory'] as string } : {}),
    envFiles: (g['env-file'] as string[] | undefined) ?? [],
    profiles: (g.profile as string[] | undefined) ?? [],
  });
  for (const w of project.warnings) warn(ctx, w.message);
  return project;
}

export function warn(ctx: CommandContext, message: string): void {
  ctx.stderr.write(`WARN[0000] ${message}\n`);
}

/** Docker Compose's plain progress writer: ` ID TEXT ` lines on stderr (--progress quiet: none). */
export function reporter(ctx: CommandContext): Reporter {
  const quiet = ctx.group.progress === 'quiet';
  return {
    event: (id, text) => {
      if (!quiet) ctx.stderr.write(` ${id} ${text} \n`);
    },
    warn: (m) => warn(ctx, m),
  };
}

/** Pulls for compose: no layer progress (the service's Pulling/Pulled events say it). */
export const quietPull: PullFn = async (ref, { platform }) => {
  const [{ pullImage }, { SILENT }] = await Promise.all([import('../../../image/pull.js'), import('../../../image/progress.js')]);
  await pullImage(ref, { platform, progress: SILENT });
};

/** Docker Compose exits 1 on its failures (skiff's 125/126/127 become 1; a container's own exit code comes through execve, not here). */
export async function composeExit<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SkiffError && e.exitCode !== 1) throw new SkiffError(e.code, e.message, 1);
    throw e;
  }
}

/**
 * A descriptor's `netns` for the verbs that make or start containers: rootless, a project's networks are
 * user-defined networks in the rootless network namespace, so the verb runs there.
 */
export const inProjectNetns = (): boolean => true;

/** A verb's body over the command line's project and the progress reporter, with compose's exit code. */
export function withProject<T>(ctx: CommandContext, fn: (project: Project, r: Reporter) => Promise<T>): Promise<T> {
  return composeExit(async () => fn(await loadFromContext(ctx), reporter(ctx)));
}

/** The name compose shows for a container in logs: without the `PROJECT-` prefix (`web-1`). */
export function shortName(project: string, name: string): string {
  return name.startsWith(`${project}-`) ? name.slice(project.length + 1) : name;
}

/** The converge options `up` and `create` share (CONVERGE_OPTIONS), checked, as the engine's UpOptions. */
export function convergeOptions(o: { build: boolean; 'no-build': boolean; 'force-recreate': boolean; 'no-recreate': boolean; 'remove-orphans': boolean; scale: string[] }): Pick<UpOptions, 'build' | 'noBuild' | 'forceRecreate' | 'noRecreate' | 'removeOrphans' | 'scale'> {
  if (o['force-recreate'] && o['no-recreate']) throw new SkiffError('EINVAL', '--force-recreate and --no-recreate are incompatible', 1);
  if (o.build && o['no-build']) throw new SkiffError('EINVAL', '--build and --no-build are incompatible', 1);
  return { build: o.build, noBuild: o['no-build'], forceRecreate: o['force-recreate'], noRecreate: o['no-recreate'], removeOrphans: o['remove-orphans'], scale: parseScale(o.scale) };
}

/** `--scale web=3` values. */
export function parseScale(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of list) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw new SkiffError('EINVAL', `invalid --scale value ${JSON.stringify(s)}: expected SERVICE=NUM`, 1);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
