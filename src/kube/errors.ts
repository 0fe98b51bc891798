/**
 * Problems and warnings of the kube domain, as data. A problem names the document (1-based, in the order
 * of the stream), the object when it has a kind and a name, the path in it
 * (`spec.containers[0].ports[0].containerPort`) and what is wrong; `kubeError` turns a list into one
 * SkiffError (Docker's 125: skiff failed; podman's `kube play` exits 125 on a bad file too).
 */
import { SkiffError } from '../errors.js';

export interface KubeWhere {
  /** 1-based position of the document in the file (an item of a List: the List's document). */
  document?: number;
  kind?: string;
  name?: string;
}

export interface KubeProblem extends KubeWhere {
  /** Path inside the document's object ('' = the object itself). */
  path: string;
  line?: number;
  message: string;
}

/** Something skiff did not do or did differently, said once (kinds skipped, fields ignored, rounding). */
export interface KubeWarning extends KubeWhere {
  message: string;
}

function whereText(w: KubeWhere): string {
  const parts: string[] = [];
  if (w.document !== undefined) parts.push(`document ${w.document}`);
  if (w.kind !== undefined || w.name !== undefined) parts.push(`(${[w.kind, w.name].filter((x) => x !== undefined && x !== '').join(' ')})`);
  return parts.join(' ');
}

/** `document 2 (Deployment web): spec.replicas (line 7): must be >= 0`. */
export function formatProblem(p: KubeProblem): string {
  const where = whereText(p);
  const at = p.path === '' ? '' : `${p.path}${p.line !== undefined ? ` (line ${p.line})` : ''}: `;
  return `${where}${where ? ': ' : ''}${at}${p.message}`;
}

export function formatWarning(w: KubeWarning): string {
  const where = whereText(w);
  return `${where}${where ? ': ' : ''}${w.message}`;
}

/** One error line for a list of problems (the first five, then how many more). */
export function kubeError(problems: readonly KubeProblem[], what = 'invalid Kubernetes YAML'): SkiffError {
  const text = problems.slice(0, 5).map(formatProblem).join('; ');
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  return new SkiffError('EINVAL', `${what}: ${text}${more}`);
}

export class WarningList {
  readonly list: KubeWarning[] = [];
  private readonly seen = new Set<string>();
  add(w: KubeWarning): void {
    const key = formatWarning(w);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(w);
  }
}
