/** The network backend of this store: rootful bridge networks (bridge.ts), rootless pasta (pasta.ts). */
import { paths } from '../config.js';
import type { NetworkBackend } from './backend.js';

export async function backendFor(rootless = paths().rootless): Promise<NetworkBackend> {
  return rootless ? (await import('./pasta.js')).pastaBackend : (await import('./bridge.js')).bridgeBackend;
}
