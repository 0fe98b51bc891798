/**
 * DigestVerifier, the stream form of DigestCheck (digest.ts): its own module, so that what only checks
 * digests (the run path) does not load node:stream.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { DigestCheck } from './digest.js';

/**
 * A pass-through stream that counts and hashes the bytes going through it. It fails as soon as
 * more than `size` bytes arrive, and at its end unless the bytes had `digest` (and exactly `size`).
 * Nothing downstream may be committed before this stream has finished without error.
 */
export class DigestVerifier extends Transform {
  private readonly c: DigestCheck;
  constructor(expected: string, size: number | undefined, what: string = expected) {
    super();
    this.c = new DigestCheck(expected, size, what);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.c.update(chunk);
    } catch (e) {
      cb(e as Error);
      return;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.c.check();
    } catch (e) {
      cb(e as Error);
      return;
    }
    cb();
  }
  /** Bytes seen so far. */
  get bytes(): number {
    return this.c.bytes;
  }
  /** The digest of what went through, once the stream has flushed. */
  get digest(): string | undefined {
    return this.c.digest;
  }
}
