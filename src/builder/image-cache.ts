/**
 * `--cache-from IMAGE` in its classic meaning (Docker's builder before BuildKit): the layers and
 * history of a local or pulled image stand in for the steps of this build that made them. A step
 * matches when an image's history begins as the stage's history so far (each entry's created_by
 * and whether it made a layer), its layers begin with the stage's layers (diffIDs), and its next
 * history entry was made by the same instruction (created_by). The step then takes that entry's
 * creation time and layer, so the image built is the cached image (same id).
 *
 * created_by does not say everything a step depends on, so the caller decides what a match may
 * stand for: metadata steps, WORKDIR and RUN (without build args or bind mounts, which created_by
 * does not show) are taken as they are; COPY/ADD run and match only when they made the same layer.
 */
import type { HistoryEntry, ImageConfig } from '../oci/media.js';
import type { ImageRecord, LayerRef } from '../store/images.js';

export interface ImageCacheHit {
  created: string;
  /** The layer the image has for this step (undefined: the step made none). */
  layer?: LayerRef;
  /** The image it came from (its id). */
  image: string;
}

interface CacheImage {
  record: ImageRecord;
  history: HistoryEntry[];
}

export class ImageCache {
  private readonly images: CacheImage[];

  constructor(images: { record: ImageRecord; config: ImageConfig }[]) {
    this.images = images.map(({ record, config }) => ({ record, history: config.history ?? [] }));
  }

  get size(): number {
    return this.images.length;
  }

  /** The next step of an image that begins as `history` and `diffIds` do and goes on with `createdBy`. */
  match(history: readonly HistoryEntry[], diffIds: readonly string[], createdBy: string): ImageCacheHit | undefined {
    for (const img of this.images) {
      const h = img.history;
      const n = history.length;
      if (h.length <= n || h[n]!.created_by !== createdBy) continue;
      let ok = true;
      for (let i = 0; i < n && ok; i++) ok = h[i]!.created_by === history[i]!.created_by && !h[i]!.empty_layer === !history[i]!.empty_layer;
      if (!ok) continue;
      const layers = img.record.layers;
      if (layers.length < diffIds.length || diffIds.some((d, i) => layers[i]!.diffId !== d)) continue;
      // the layers of the history so far must be exactly the stage's (an image without history has none to compare)
      if (h.slice(0, n).filter((e) => !e.empty_layer).length !== diffIds.length) continue;
      const next = h[n]!;
      const created = next.created ?? img.record.created;
      if (next.empty_layer) return { created, image: img.record.id };
      const layer = layers[diffIds.length];
      if (!layer) continue;
      return { created, layer, image: img.record.id };
    }
    return undefined;
  }
}
