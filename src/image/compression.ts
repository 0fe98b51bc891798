/**
 * Layer decompression chosen by the stream's magic bytes (media types are not always honest):
 * gzip (1f 8b) with ISA-L's inflate (the skiff_layer addon: ~1.7x node:zlib's speed, with the
 * same checks and errors), zstd (28 b5 2f fd, or a skippable frame 5? 2a 4d 18) with the
 * pure-JS `fzstd` package — Node 20's zlib has no zstd — and anything else passed through as a
 * plain tar. Backpressure is kept end to end, so a slow extraction slows the download.
 */
import { PassThrough, Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import { SkiffError } from '../errors.js';
import { layerAddon, type InflateLimit } from '../native.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * The decompression bound (a "bomb" fills the disk before any digest can be checked): what a
 * compressed blob inflates to may be at most INFLATE_FLOOR plus INFLATE_RATIO times the compressed
 * bytes read so far (and, where the blob's size is known, times that size, checked at each tar
 * header: an entry that cannot fit is refused before a byte of it is written). Real layers inflate
 * 2-10 times; gzip can reach ~1000 times, zstd far more. Docker and Podman set no bound.
 */
export const INFLATE_RATIO = 100;
export const INFLATE_FLOOR = 1024 * 1024 * 1024;

/** The bound for a blob of `compressedSize` bytes (unknown: the bytes read so far only), as the layer sink takes it. */
export function inflateLimit(compressedSize?: number): InflateLimit {
  return { ratio: INFLATE_RATIO, floor: INFLATE_FLOOR, ...(compressedSize ? { compressedSize } : {}) };
}

/** Whether `output` bytes inflated from `input` compressed bytes are beyond the bound. */
export const beyondInflateLimit = (output: number, input: number): boolean => output > INFLATE_FLOOR + INFLATE_RATIO * input;

/** The error of data that inflates beyond the bound (the sink's native check says the same). */
export function inflateError(what: string): SkiffError {
  return new SkiffError('EINVAL', `${what} inflates to more than ${INFLATE_RATIO} times its compressed size plus ${INFLATE_FLOOR >> 20} MiB: refused as a possible decompression bomb`);
}

/** Counts a decoder's input and output; `out` throws inflateError once the output passes the bound. */
class InflateCounter {
  private input = 0;
  private output = 0;
  constructor(private readonly what: string) {}
  in(n: number): void {
    this.input += n;
  }
  out(n: number): void {
    this.output += n;
    if (beyondInflateLimit(this.output, this.input)) throw inflateError(this.what);
  }
}

/** What the first bytes of a blob say it is (needs 4 bytes; fewer means plain). */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const magic = head.readUInt32LE(0);
    if (magic === 0xfd2fb528 || (magic & 0xfffffff0) === 0x184d2a50) return 'zstd';
  }
  return 'none';
}

/**
 * A decoder held to the decompression bound, in bounded memory: a decoder turns all the input it
 * is given into output at once, and a few bytes can be megabytes (a zstd RLE block: 4 bytes for
 * 128 KiB; deflate: ~1000 times), so input goes in in slices of `slice` bytes, and the next slice
 * waits while the reader has not taken what is out. A bomb then meets the bound (or, in a layer,
 * the sink's header check) with at most a slice's output in memory.
 */
abstract class BoundedDecoder extends Transform {
  private readonly count: InflateCounter;
  /** The last push found the reader's buffer full: the next slice waits for _read. */
  private full = false;
  private waiting: (() => void) | undefined;
  constructor(what: string, private readonly slice: number) {
    super();
    this.count = new InflateCounter(what);
  }
  /** Decode `input` (synchronously, or by the returned promise), handing output to `out`; throws on bad data. */
  protected abstract decode(input: Buffer): Promise<void> | void;
  /** Errors of `decode` as this decoder names them. */
  protected abstract named(e: unknown): Error;
  /** One piece of output: counted against the bound (which throws), then pushed. */
  protected out(b: Buffer): void {
    this.count.out(b.length);
    if (b.length && !this.push(b)) this.full = true;
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.feed(chunk).then(() => cb(), (e: unknown) => cb(e instanceof SkiffError ? e : this.named(e)));
  }
  private async feed(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length && !this.destroyed; ) {
      if (this.full) await new Promise<void>((resolve) => (this.waiting = resolve));
      const s = chunk.subarray(at, at + this.slice);
      at += s.length;
      this.count.in(s.length);
      const pending = this.decode(s);
      if (pending) await pending;
    }
  }
  override _read(size: number): void {
    this.full = false;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
    super._read(size);
  }
}

/** A zstd decoder over fzstd's streaming `Decompress`, held to the decompression bound. */
export class ZstdDecompress extends BoundedDecoder {
  private readonly d: Decompress;
  constructor(what = 'data') {
    super(what, 512);
    // fzstd hands out a freshly allocated block each time: no copy needed.
    this.d = new Decompress((chunk) => this.out(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }
  protected decode(input: Buffer): void {
    this.d.push(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  }
  protected named(e: unknown): Error {
    return zstdError(e);
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(e instanceof SkiffError ? e : zstdError(e));
    }
  }
}

function zstdError(e: unknown): Error {
  const m = (e as Error).message || 'invalid data';
  return new Error(m === 'unexpected EOF' ? 'unexpected end of file' : m);
}

/**
 * Gunzip with ISA-L: each slice inflated on the thread pool, as node:zlib does, output handed over
 * without a copy; held to the decompression bound.
 */
export class IsalGunzip extends BoundedDecoder {
  private readonly inflater = new (layerAddon().Inflater)();
  constructor(what = 'data') {
    super(what, 64 * 1024);
  }
  protected decode(input: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.inflater.write(input, (err, out) => {
        if (err) return reject(err);
        try {
          for (const b of out) this.out(b);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
  }
  protected named(e: unknown): Error {
    return e as Error;
  }
  override _flush(cb: TransformCallback): void {
    cb(this.inflater.finish() ?? null);
  }
}

/**
 * The decoder for `kind` (a pass-through for a plain tar), held to the decompression bound (`what`
 * names the data in that error). Name its other errors with corruptError(e, what, kind).
 */
export function decoderFor(kind: Compression, what = 'data'): Transform {
  if (kind === 'gzip') return new IsalGunzip(what);
  if (kind === 'zstd') return new ZstdDecompress(what);
  return new PassThrough();
}

/** A decoder's error as an EDIGEST naming the data: `<what> is not valid <kind> data: ...`. */
export function corruptError(e: Error, what: string, kind: Compression): Error {
  return e instanceof SkiffError ? e : new SkiffError('EDIGEST', `${what} is not valid ${kind} data: ${e.message}`);
}

/**
 * Sniffs the first bytes, then runs them and the rest through the right decoder. The decoder's
 * output is pushed with backpressure: when our reader stops, the decoder is paused, its input
 * buffer fills, and this stream stops asking for more.
 */
class AutoDecompress extends Transform {
  constructor(private readonly what: string) {
    super();
  }
  private head: Buffer[] = [];
  private headLength = 0;
  private inner: Transform | undefined;
  private innerEnded: Promise<void> | undefined;
  kind: Compression | undefined;

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (!this.inner) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < 4) {
        cb();
        return;
      }
      chunk = this.start();
    }
    this.feed(chunk, cb);
  }

  private start(): Buffer {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.kind = detectCompression(head);
    const inner = decoderFor(this.kind, this.what);
    this.inner = inner;
    const kind = this.kind;
    this.innerEnded = new Promise((resolve, reject) => {
      inner.once('end', resolve);
      inner.once('error', (e: Error) => reject(corruptError(e, this.what, kind)));
    });
    this.innerEnded.catch((e: Error) => this.destroy(e));
    inner.on('data', (d: Buffer) => {
      if (!this.push(d)) inner.pause();
    });
    return head;
  }

  private feed(chunk: Buffer, cb: TransformCallback): void {
    if (this.inner!.write(chunk)) cb();
    else this.inner!.once('drain', () => cb());
  }

  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.inner) {
      // Fewer than 4 bytes in all: decide on what there is.
      const head = this.start();
      if (head.length) this.inner!.write(head);
    }
    this.inner!.end();
    this.innerEnded!.then(() => cb(), (e: Error) => cb(e));
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.inner?.destroy();
    cb(err);
  }
}

/**
 * The uncompressed bytes of `input`, whatever its compression (the media type is only a hint
 * and is not trusted). Corrupt data fails with EDIGEST naming `what`. Errors of `input` come out
 * of the returned stream; destroying the returned stream destroys `input`.
 */
export function decompressStream(_mediaType: string, input: Readable, what = 'layer'): Readable {
  const out = new AutoDecompress(what);
  pipeline(input, out, () => {
    /* errors surface on `out` itself */
  });
  return out;
}
