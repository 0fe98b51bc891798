/**
 * Where a pull or push reports what it does: events, not output. The CLI turns them into Docker's
 * progress lines (cli/output/progress.ts); compose and kube can give each service its own sink.
 */
export interface Progress {
  /** A layer's state; `current`/`total` (bytes) make it a progress bar update. */
  update(id: string, status: string, current?: number, total?: number): void;
  /** A line that is not about one layer (`Digest: ...`); ends the current group of layer lines. */
  line(text: string): void;
  /** Everything reported: draw anything still pending. */
  done(): void;
}

/** A sink that drops every event (`pull -q`, and the default). */
export const SILENT: Progress = { update: () => undefined, line: () => undefined, done: () => undefined };

/**
 * How a domain that needs an image (container create, build) gets one it does not have: pulled by
 * whoever called it (the CLI decides where the progress goes and, rootless, which process pulls).
 * `missing`: the image was looked for locally and is not there (Docker says so before pulling).
 */
export type PullFn = (ref: string, o: { platform: string | undefined; missing: boolean }) => Promise<void>;
