/**
 * OCI layer tar → overlayfs "diff" directory: the store's one way into a layer directory (pull,
 * load, commit). The extractor is native (addon/src/tar_extract.cc, which holds the format and the
 * security rules: no entry is created outside the target, through a symlink, or over `..`), and
 * runs on the libuv thread pool, so layers extract in parallel and the main thread only moves
 * buffers. Pull hands it the gzip blob as it arrives: it is inflated (ISA-L), hashed for the
 * diffID and written to its files without its bytes ever reaching JavaScript.
 *
 * Errors: a bad layer is a SkiffError EINVAL (ERUNTIME when the kernel cannot make a whiteout); a
 * syscall's failure keeps its errno `code` (ENOSPC...) and says which entry; corrupt gzip comes out
 * as an error that isCorruptInput() recognises, for the caller to name the blob.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { layerAddon, type InflateLimit, type NativeLayer, type NativeLayerError } from '../native.js';

export interface ExtractOptions {
  overlayXattrPrefix: 'trusted.overlay.' | 'user.overlay.';
  /** Apply entry owners (false when only one id is mapped). */
  chown: boolean;
  /** Names the layer in error messages (e.g. its digest). */
  label?: string;
}

export interface ExtractResult {
  /** Bytes of regular-file content written. */
  size: number;
  /** Device nodes that could not be created (EPERM, rootless) and were skipped. */
  skippedDevices: number;
  /** The uncompressed tar's digest, when one was asked for. */
  digest?: string;
}

export interface SinkOptions {
  /** What is written is gzip, not a plain tar. */
  gzip?: boolean;
  /** Also hash the uncompressed tar with this algorithm (for the diffID). */
  digest?: string;
  /** Hold the tar to this decompression bound (src/image/compression.ts: inflateLimit). */
  inflateLimit?: InflateLimit;
}

const CORRUPT = Symbol('corrupt input');

/** Whether `e` says the sink's gzip input was not valid gzip (name it with the blob). */
export const isCorruptInput = (e: unknown): e is Error => e instanceof Error && (e as { [CORRUPT]?: boolean })[CORRUPT] === true;

function toError(e: NativeLayerError): Error {
  if (e.stage === 'inflate') return Object.assign(new Error(e.message), { [CORRUPT]: true });
  if (e.code === 'EINVAL' || e.code === 'ERUNTIME') return new SkiffError(e.code, e.message);
  return Object.assign(new Error(e.message), { code: e.code });
}

/**
 * A writable stream into one layer directory (an empty existing directory). Finishes once the
 * archive is complete and every entry is written (`result` is then set); on failure the target
 * holds a partial tree, and 'close' comes only once nothing writes there any more: discard it then.
 * The input is consumed to its end, also past the end-of-archive blocks, so a digest covers it all.
 */
export class LayerSink extends Writable {
  private readonly job: NativeLayer;
  result: ExtractResult | undefined;

  constructor(target: string, opts: ExtractOptions, how: SinkOptions = {}) {
    super({ highWaterMark: 1 << 20 });
    this.job = new (layerAddon().Layer)(target, {
      ...opts,
      gzip: how.gzip === true,
      ...(how.digest ? { digest: how.digest } : {}),
      ...(how.inflateLimit ? { inflateLimit: how.inflateLimit } : {}),
    });
  }

  override _write(chunk: Buffer, _e: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.job.write([chunk], (err) => cb(err ? toError(err) : null));
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (error?: Error | null) => void): void {
    this.job.write(chunks.map((c) => c.chunk), (err) => cb(err ? toError(err) : null));
  }

  override _final(cb: (error?: Error | null) => void): void {
    this.job.end((err, r) => {
      if (err) return cb(toError(err));
      this.result = r;
      cb();
    });
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.job.abort(() => cb(err));
  }
}

/** Resolves once `s` has closed (nothing of it runs any more). */
export const closed = (s: Writable): Promise<void> => new Promise((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

/**
 * Extract an uncompressed layer tar stream into `target` (an empty existing directory) in overlay
 * "diff" format. The input is read to its end, also past the end-of-archive blocks, so a digest
 * computed on the stream covers every byte. On failure the target holds a partial tree: discard it.
 */
export async function extractLayer(input: Readable, target: string, opts: ExtractOptions): Promise<ExtractResult> {
  const sink = new LayerSink(target, opts);
  try {
    await pipeline(input, sink);
  } finally {
    await closed(sink);
  }
  return sink.result!;
}
