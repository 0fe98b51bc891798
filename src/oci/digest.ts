/**
 * Digests: the one place content is checked against its digest.
 * Algorithms as go-digest knows them (sha256, sha384, sha512), lowercase hex of the exact length.
 */
import type { Hash } from 'node:crypto';
import { SkiffError } from '../errors.js';
import { crypto } from '../lib/lazy.js';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };
/** go-digest's DigestRegexp: any well-formed `algorithm:encoded`. */
const DIGEST_SHAPE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Why `d` is not a usable digest, in go-digest's words (`invalid checksum digest format`,
 * `invalid checksum digest length`, `unsupported digest algorithm`), or undefined when it is fine.
 */
export function digestProblem(d: string): string | undefined {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) return 'invalid checksum digest format';
  const algorithm = d.slice(0, i);
  const hex = d.slice(i + 1);
  if (!Object.hasOwn(HEX_LENGTH, algorithm)) {
    return DIGEST_SHAPE.test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  }
  if (hex.length !== HEX_LENGTH[algorithm as DigestAlgorithm]) return 'invalid checksum digest length';
  if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format';
  return undefined;
}

/** Split and validate `sha256:<64 hex>` (or sha384/sha512); EINVAL naming the digest otherwise. */
export function parseDigest(d: string): { algorithm: DigestAlgorithm; hex: string } {
  const problem = digestProblem(d);
  if (problem) throw new SkiffError('EINVAL', `invalid digest "${d}": ${problem}`);
  const i = d.indexOf(':');
  return { algorithm: d.slice(0, i) as DigestAlgorithm, hex: d.slice(i + 1) };
}

export const isDigest = (d: string): boolean => digestProblem(d) === undefined;

export const sha256Hex = (b: Buffer | string): string => crypto().createHash('sha256').update(b).digest('hex');
export const sha256Digest = (b: Buffer | string): string => `sha256:${sha256Hex(b)}`;
/** `algorithm:hex` of `b` (sha256 unless told). */
export const digestOf = (b: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string =>
  `${algorithm}:${crypto().createHash(algorithm).update(b).digest('hex')}`;

function mismatch(what: string, expected: string, got: string): SkiffError {
  return new SkiffError('EDIGEST', `digest mismatch for ${what}: expected ${expected}, got ${got}`);
}

function sizeMismatch(what: string, expected: number, got: string | number): SkiffError {
  return new SkiffError('EDIGEST', `size mismatch for ${what}: expected ${expected} bytes, got ${got}`);
}

/** Throws EDIGEST unless `got` (a computed digest) is `expected`. */
export function verifyDigest(got: string, expected: string, what: string = expected): void {
  if (got !== expected) throw mismatch(what, expected, got);
}

/** Throws EDIGEST unless `buf` has `digest` (and `size`, when given). `what` names the content in the message. */
export function verifyBuffer(buf: Buffer, digest: string, size?: number, what: string = digest): void {
  const { algorithm } = parseDigest(digest);
  if (size !== undefined && buf.length !== size) throw sizeMismatch(what, size, buf.length);
  verifyDigest(digestOf(buf, algorithm), digest, what);
}

/**
 * Counts and hashes bytes as they come: `update` throws as soon as more than `size` bytes arrived,
 * `check` throws unless the bytes had `digest` (and exactly `size`). Used directly where no stream
 * is wanted (pull's layer path), and by DigestVerifier.
 */
export class DigestCheck {
  private readonly hash: Hash;
  private readonly algorithm: DigestAlgorithm;
  private count = 0;
  private result: string | undefined;
  constructor(
    private readonly expected: string,
    private readonly size: number | undefined,
    private readonly what: string = expected,
  ) {
    this.algorithm = parseDigest(expected).algorithm;
    this.hash = crypto().createHash(this.algorithm);
  }
  update(chunk: Buffer): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) throw sizeMismatch(this.what, this.size, 'more');
    this.hash.update(chunk);
  }
  check(): void {
    if (this.size !== undefined && this.count !== this.size) throw sizeMismatch(this.what, this.size, this.count);
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    verifyDigest(this.result, this.expected, this.what);
  }
  /** Bytes seen so far. */
  get bytes(): number {
    return this.count;
  }
  /** The digest of what went through, once checked. */
  get digest(): string | undefined {
    return this.result;
  }
}
