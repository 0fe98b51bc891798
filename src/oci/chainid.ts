/** OCI image-spec ChainIDs: the identity of a stack of layers, which names extracted layers in the store. */
import { sha256Digest } from './digest.js';

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function computeChainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(chainIdOf(out[out.length - 1] ?? null, d));
  return out;
}

/** The chain id of a layer with this diffID on top of `parent` (a chain id, or null for the first layer). */
export function chainIdOf(parent: string | null, diffId: string): string {
  return parent === null ? diffId : sha256Digest(`${parent} ${diffId}`);
}
