/**
 * `import`: a root filesystem tarball (plain, gzip or zstd; a file or stdin) → a one-layer image,
 * with `-c` Dockerfile instructions applied to its config and `-m` as its history comment (Docker's
 * `docker import`). The tar is staged uncompressed (its digest is the layer's diffID) and extracted
 * as a layer is: paths contained, whiteouts honoured, sizes bounded.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decompressStream } from '../image/compression.js';
import { extractOptions } from '../image/pull.js';
import { MT, type ImageConfig } from '../oci/media.js';
import { hostPlatform } from '../oci/platform.js';
import { canonical, parseReference } from '../oci/reference.js';
import { makeStagingDir, removeTree, writeFileAtomic } from '../store/atomic.js';
import { extractLayer } from '../store/extract.js';
import { putImage, type ImageRecord } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { createLayer, whileAddingLayers } from '../store/layers.js';
import { applyChanges } from './metadata.js';

export interface ImportOptions {
  /** the file given (`-` for stdin), for the history comment */
  source: string;
  repository?: string;
  changes: string[];
  message?: string;
}

/** Returns the new image id. */
export function importImage(input: Readable, o: ImportOptions): Promise<string> {
  const ref = o.repository ? canonical(parseReference(o.repository)) : undefined;
  const p = hostPlatform();
  const image: ImageConfig = { architecture: p.arch, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [] } };
  applyChanges(image, o.changes); // bad changes fail before the archive is read
  return whileAddingLayers(async () => {
    const stage = await makeStagingDir('import');
    try {
      const tar = path.join(stage, 'layer.tar');
      const hash = crypto.createHash('sha256');
      const plain = decompressStream('', input, `the archive ${o.source === '-' ? 'on stdin' : o.source}`);
      plain.on('data', (c: Buffer) => hash.update(c));
      await pipeline(plain, fs.createWriteStream(tar));
      const diffId = `sha256:${hash.digest('hex')}`;
      const { meta } = await createLayer({ chainId: diffId, diffId, parent: null }, async (diff) => (await extractLayer(fs.createReadStream(tar), diff, extractOptions())).size);
      const created = new Date().toISOString();
      image.created = created;
      image.rootfs = { type: 'layers', diff_ids: [diffId] };
      image.history = [{ created, created_by: '', comment: o.message || `Imported from ${o.source}` }];
      const bytes = Buffer.from(JSON.stringify(image));
      const id = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
      if (!fs.existsSync(blobPath(id))) await writeFileAtomic(blobPath(id), bytes, 0o644);
      const rec: ImageRecord = { id, configMediaType: MT.ociConfig, repoDigests: [], layers: [{ chainId: diffId, diffId }], size: meta.size, created, added: created };
      await putImage(rec, ref ? [ref] : []);
      return id;
    } finally {
      await removeTree(stage);
    }
  });
}
