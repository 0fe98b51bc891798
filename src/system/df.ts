/**
 * `system df`: what the store's images, containers, local volumes and build cache take, as Docker
 * counts them. Image sizes come from the layers' records (a layer shared by images counts once);
 * containers' from their upper dirs, volumes' from their data dirs (walked once each). Each record is
 * read once: the build cache's count takes the same lists.
 */
import { buildCacheRecords, type CacheRecord } from '../builder/usage.js';
import { observeContainer } from '../container/state.js';
import { treeSize } from '../lib/du.js';
import { containerFiles, listContainers, type ContainerRecord } from '../store/containers.js';
import { listImages, tagsById } from '../store/images.js';
import { layerMeta } from '../store/layers.js';
import { ANONYMOUS_LABEL, containersUsing, listVolumes, volumeSource } from '../volume/volumes.js';

export interface ImageUsage {
  id: string;
  tags: string[];
  created: string;
  size: number;
  /** bytes of layers other images have too */
  sharedSize: number;
  containers: number;
}

export interface ContainerUsage {
  rec: ContainerRecord;
  sizeRw: number;
  running: boolean;
  status: string;
}

export interface VolumeUsage {
  name: string;
  links: number;
  size: number;
  anonymous: boolean;
}

export interface DiskUsage {
  images: ImageUsage[];
  containers: ContainerUsage[];
  volumes: VolumeUsage[];
  buildCache: CacheRecord[];
  /** unique bytes of all images' layers / of the layers images in use have */
  imagesSize: number;
  imagesActiveSize: number;
}

export async function diskUsage(): Promise<DiskUsage> {
  const [images, tags, containers] = await Promise.all([listImages(), tagsById(), Promise.resolve(listContainers())]);
  const layerImages = new Map<string, number>();
  for (const img of images) for (const l of img.layers) layerImages.set(l.chainId, (layerImages.get(l.chainId) ?? 0) + 1);
  // each layer's record once (not once per image, nor again per container)
  const layerSize = new Map(await Promise.all([...layerImages.keys()].map(async (id) => [id, (await layerMeta(id))?.size ?? 0] as const)));
  const usedBy = new Map<string, number>();
  for (const c of containers) usedBy.set(c.Image, (usedBy.get(c.Image) ?? 0) + 1);
  const activeLayers = new Set<string>();
  const imageRows = images.map((img): ImageUsage => {
    let size = 0;
    let sharedSize = 0;
    for (const l of img.layers) {
      const n = layerSize.get(l.chainId) ?? 0;
      size += n;
      if ((layerImages.get(l.chainId) ?? 0) > 1) sharedSize += n;
      if (usedBy.has(img.id)) activeLayers.add(l.chainId);
    }
    return { id: img.id, tags: tags.get(img.id) ?? [], created: img.created, size, sharedSize, containers: usedBy.get(img.id) ?? 0 };
  });
  const sum = (ids: Iterable<string>): number => [...ids].reduce((n, id) => n + (layerSize.get(id) ?? 0), 0);
  const containerRows = containers.map((rec): ContainerUsage => {
    const obs = observeContainer(rec);
    return { rec, sizeRw: treeSize(containerFiles(rec.Id).upper), running: obs.State.Running, status: obs.StatusText };
  });
  const volumes = listVolumes().map((v): VolumeUsage => {
    const src = volumeSource(v);
    return {
      name: v.Name,
      links: containersUsing(v.Name, containers).length,
      size: src.kind === 'bind' ? treeSize(src.path) : 0,
      anonymous: v.Labels?.[ANONYMOUS_LABEL] !== undefined,
    };
  });
  return {
    images: imageRows, containers: containerRows, volumes, buildCache: await buildCacheRecords({ images, containers }),
    imagesSize: sum(layerSize.keys()), imagesActiveSize: sum(activeLayers),
  };
}

export interface UsageSummary {
  Type: 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache';
  TotalCount: number;
  Active: number;
  Size: number;
  Reclaimable: number;
}

/** The four lines of `system df`. */
export function usageSummary(du: DiskUsage): UsageSummary[] {
  const total = (xs: { size: number }[]): number => xs.reduce((n, x) => n + x.size, 0);
  const cSize = du.containers.reduce((n, c) => n + c.sizeRw, 0);
  const usedVolumes = du.volumes.filter((v) => v.links > 0);
  return [
    { Type: 'Images', TotalCount: du.images.length, Active: du.images.filter((i) => i.containers > 0).length, Size: du.imagesSize, Reclaimable: du.imagesSize - du.imagesActiveSize },
    { Type: 'Containers', TotalCount: du.containers.length, Active: du.containers.filter((c) => c.running).length, Size: cSize, Reclaimable: du.containers.filter((c) => !c.running).reduce((n, c) => n + c.sizeRw, 0) },
    { Type: 'Local Volumes', TotalCount: du.volumes.length, Active: usedVolumes.length, Size: total(du.volumes), Reclaimable: total(du.volumes) - total(usedVolumes) },
    { Type: 'Build Cache', TotalCount: du.buildCache.length, Active: 0, Size: total(du.buildCache), Reclaimable: total(du.buildCache) },
  ];
}
