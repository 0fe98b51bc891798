/**
 * The containers a lifecycle verb acts on: those named, or Podman's selections that do not contradict
 * Docker: `--all` (every container the verb applies to), `-l/--latest` (the newest one), `--filter`
 * (`start`). One place for the rules, so `stop -a` and `rm -a` agree.
 */
import { SkiffError, UsageError } from '../errors.js';
import type { OptionSpec } from './command.js';

export interface Selection {
  all?: boolean;
  latest?: boolean;
  filter?: string[];
}

type Flag = OptionSpec & { readonly type: 'boolean'; readonly default: false };

/** `--all` (with `-a` where Docker gives that letter to nothing else in the verb). */
export const allOption = (describe: string, short = true): Flag => ({ ...(short ? { alias: 'a' } : {}), type: 'boolean', default: false, describe });
/** Podman's `-l/--latest` (without the letter where Docker uses it for something else). */
export const latestOption = (short = true): Flag => ({
  ...(short ? { alias: 'l' } : {}),
  type: 'boolean',
  default: false,
  describe: 'Act on the latest container skiff created',
});

/**
 * The container references to act on. `states`: the states `--all` picks (none: every container).
 * Names and a selection together, or neither, are usage errors as Podman's (`one`: a verb of one container).
 */
export async function targets(sel: Selection, refs: readonly string[], invokedAs: string, states?: readonly string[], one = false): Promise<string[]> {
  const chosen = [sel.all && '--all', sel.latest && '--latest', sel.filter?.length && '--filter'].filter((x): x is string => typeof x === 'string');
  if (chosen.length > 1) throw new UsageError('value', `${chosen.join(' and ')} cannot be used together`, invokedAs, '[OPTIONS] CONTAINER [CONTAINER...]');
  if (chosen.length === 0) {
    if (refs.length === 0) {
      throw new UsageError('args', `'skiff ${invokedAs}' requires ${one ? 'exactly' : 'at least'} 1 argument`, invokedAs, `[OPTIONS] CONTAINER${one ? '' : ' [CONTAINER...]'}`);
    }
    return [...refs];
  }
  if (refs.length > 0) throw new SkiffError('EINVAL', `${chosen[0]} and container names or IDs cannot be used together`);
  const { selectContainers } = await import('../container/list.js');
  if (sel.latest) {
    const [newest] = await selectContainers({ all: true, last: 1, filters: [] });
    if (!newest) throw new SkiffError('ENOCONTAINER', 'no containers to act on (--latest)', 125);
    return [newest.rec.Id];
  }
  const filters = [...(sel.filter ?? [])];
  const picked = await selectContainers({ all: true, filters });
  return picked.filter(({ obs }) => !states || states.includes(obs.State.Status)).map(({ rec }) => rec.Id);
}
