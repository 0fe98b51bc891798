/**
 * Extra CA certificates for registry TLS. NODE_EXTRA_CA_CERTS makes node parse that bundle at every
 * start, before any JavaScript runs (~50 ms with a system bundle of 150 certificates): bin/skiff
 * therefore starts node without it and hands the file over as SKIFF_EXTRA_CA_CERTS, and the
 * registry client loads it here, only when it opens a verified TLS connection. The trust is the
 * same as node's: the bundled Mozilla roots plus the file's certificates.
 */
import fs from 'node:fs';
import { SkiffError } from '../errors.js';
import { lazyBuiltin } from '../lib/lazy.js';

const tls = lazyBuiltin<typeof import('node:tls')>('node:tls');

/** The `ca` option for a verifying TLS agent: undefined = node's default store (which NODE_EXTRA_CA_CERTS, if set here, already extends). */
export function registryCa(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const file = env.SKIFF_EXTRA_CA_CERTS;
  if (!file || env.NODE_EXTRA_CA_CERTS) return undefined;
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SkiffError('EINVAL', `cannot read the extra CA certificates of NODE_EXTRA_CA_CERTS (${file}): ${(e as Error).message}`);
  }
  return [...tls().rootCertificates, pem];
}
