/**
 * `compose watch`'s rules (pure, unit-tested): which `develop.watch` rule a changed host path triggers
 * and where a sync puts it, as Docker Compose decides it. A path counts for a rule when it is `path`
 * or under it, matches `include` (if any), and is not ignored by: the rule's `ignore` patterns
 * (relative to `path`), the build context's `.dockerignore` (relative to the context), editors'
 * temporary files (Docker's list: JetBrains, Emacs, Vim) or a `.git` directory. Patterns have
 * `.dockerignore` syntax (a pattern that matches a directory matches what is under it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { IgnoreMatcher, readIgnorePatterns } from '../../builder/dockerignore.js';
import type { Project, Service, WatchRule } from '../model.js';
import { SkiffError } from '../../errors.js';

/** Docker Compose's EphemeralPathMatcher patterns plus `.git` (matched against the whole path). */
const EPHEMERAL = new IgnoreMatcher(['**/*___jb_old___', '**/*___jb_tmp___', '**/.idea/**', '**/.#*', '**/4913', '**/*~', '**/.*.swp', '**/.*.swx', '**/.*.swo', '**/.*.swn', '**/.git']);

export interface ActiveRule extends WatchRule {
  service: string;
  ignored: (hostPath: string) => boolean;
  included: (hostPath: string) => boolean;
}

const isUnder = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
const relTo = (root: string, p: string): string => path.relative(root, p) || '.';

/** The build context's .dockerignore (`Dockerfile.dockerignore` next to a Dockerfile first, as BuildKit). */
function dockerignoreOf(s: Service): IgnoreMatcher | undefined {
  const b = s.build;
  if (!b || !path.isAbsolute(b.context)) return undefined;
  const candidates = [...(b.dockerfile ? [`${path.resolve(b.context, b.dockerfile)}.dockerignore`] : []), path.join(b.context, '.dockerignore')];
  for (const f of candidates) {
    try {
      return new IgnoreMatcher(readIgnorePatterns(fs.readFileSync(f, 'utf8')));
    } catch {
      // next
    }
  }
  return undefined;
}

/** The rules of the selected services (all with rules when none is named); Docker Compose's errors for what cannot be watched. */
export function activeRules(project: Project, services: string[]): ActiveRule[] {
  const names = services.length ? services : Object.keys(project.services);
  const out: ActiveRule[] = [];
  for (const n of names) {
    const s = project.services[n];
    if (!s) throw new SkiffError('EINVAL', `no such service: ${n}`, 1);
    const ctx = dockerignoreOf(s);
    for (const w of s.watch) {
      if (w.action === 'rebuild' && !s.build) throw new SkiffError('EINVAL', `can't watch service "${n}" with action rebuild without a build context`, 1);
      if (w.action === 'sync+exec' && !w.exec?.command.length) throw new SkiffError('EINVAL', `can't watch with action "sync+exec" on service ${n} without a command`, 1);
      if (w.action.startsWith('sync') && !w.target) throw new SkiffError('EINVAL', `services.${n}.develop.watch: target is required for action ${w.action}`, 1);
      const own = new IgnoreMatcher(readIgnorePatterns(w.ignore.join('\n')));
      const inc = w.include.length ? new IgnoreMatcher(readIgnorePatterns(w.include.join('\n'))) : undefined;
      const context = s.build?.context;
      out.push({
        ...w,
        service: n,
        ignored: (p) => EPHEMERAL.ignored(p.slice(1)) || own.ignored(relTo(w.path, p)) || Boolean(ctx && context && isUnder(context, p) && ctx.ignored(relTo(context, p))),
        included: (p) => !inc || inc.ignored(relTo(w.path, p)),
      });
    }
  }
  if (!out.length) throw new SkiffError('EINVAL', "none of the selected services is configured for watch, consider setting a 'develop' section", 1);
  return out;
}

/** Where a rule puts a changed host path: the container path ('' for rules without a target), or undefined if the rule does not apply. */
export function ruleTarget(rule: ActiveRule, hostPath: string): string | undefined {
  if (!isUnder(rule.path, hostPath) || !rule.included(hostPath) || rule.ignored(hostPath)) return undefined;
  if (!rule.target) return '';
  return path.posix.join(rule.target, path.relative(rule.path, hostPath).split(path.sep).join('/'));
}

/** Whether a sync rule's path is under one of the service's bind mounts (Docker Compose then does not watch it). */
export function boundByMount(s: Service, p: string): boolean {
  return s.volumes.some((v) => v.type === 'bind' && v.source !== undefined && isUnder(v.source, p));
}

/** Go's %q of a list of service names: `["web" "db"]`. */
export const quoteList = (names: string[]): string => `[${names.map((n) => JSON.stringify(n)).join(' ')}]`;
