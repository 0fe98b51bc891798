/** The one place content is checked against its digest. */
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { SkiffError } from '../errors.js';

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function parseDigest(d: string): { algorithm: 'sha256' | 'sha512'; hex: string } {
  if (!DIGEST_RE.test(d)) throw new SkiffError('EINVAL', `invalid digest "${d}"`);
  const [algorithm, hex] = d.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

export const sha256Hex = (b: Buffer | string): string => crypto.createHash('sha256').update(b).digest('hex');
export const sha256Digest = (b: Buffer | string): string => `sha256:${sha256Hex(b)}`;

function mismatch(what: string, expected: string, got: string): SkiffError {
  return new SkiffError('EDIGEST', `digest mismatch for ${what}: expected ${expected}, got ${got}: the content is corrupt and was not stored`);
}

export function verifyBuffer(buf: Buffer, digest: string, size?: number, what = digest): void {
  const { algorithm } = parseDigest(digest);
  if (size !== undefined && buf.length !== size) {
    throw new SkiffError('EDIGEST', `size mismatch for ${what}: expected ${size} bytes, got ${buf.length}: the content is corrupt and was not stored`);
  }
  const got = `${algorithm}:${crypto.createHash(algorithm).update(buf).digest('hex')}`;
  if (got !== digest) throw mismatch(what, digest, got);
}

/** A pass-through stream that fails at its end unless the bytes match `digest` (and `size`). */
export class DigestVerifier extends Transform {
  private readonly hash: crypto.Hash;
  private readonly algorithm: string;
  private count = 0;
  constructor(
    private readonly digest: string,
    private readonly size: number | undefined,
    private readonly what: string = digest,
  ) {
    super();
    this.algorithm = parseDigest(digest).algorithm;
    this.hash = crypto.createHash(this.algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) {
      cb(new SkiffError('EDIGEST', `size mismatch for ${this.what}: more than the expected ${this.size} bytes: the content is corrupt and was not stored`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.count !== this.size) {
      cb(new SkiffError('EDIGEST', `size mismatch for ${this.what}: expected ${this.size} bytes, got ${this.count}: the content is corrupt and was not stored`));
      return;
    }
    const got = `${this.algorithm}:${this.hash.digest('hex')}`;
    cb(got === this.digest ? null : mismatch(this.what, this.digest, got));
  }
  get bytes(): number {
    return this.count;
  }
}
