/**
 * `system prune`: stopped containers, networks no container uses, (with `volumes`) anonymous volumes
 * no container uses, dangling (with `all`: unused) images and the build cache, in Docker's order and
 * with its filters (until=, label=). Each step is its domain's prune, under that domain's locks:
 * nothing a running container uses or a tagged image needs (without `all`) goes.
 */
import { pruneBuildCache } from '../builder/usage.js';
import { pruneContainers } from '../container/lifecycle.js';
import { SkiffError } from '../errors.js';
import { pruneImages } from '../image/manage.js';
import { parseImageFilters } from '../image/filters.js';
import { pruneNetworks } from '../network/manage.js';
import { pruneVolumes } from '../volume/volumes.js';

export interface SystemPruneReport {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
  buildCache: string[];
  reclaimed: number;
}

export async function pruneSystem(o: { all: boolean; volumes: boolean; filters: string[]; beforeNetworks?: () => Promise<void> }): Promise<SystemPruneReport> {
  const f = parseImageFilters(o.filters, ['until', 'label']); // checks every filter once, with Docker's words
  if (o.volumes && f.until !== undefined) throw new SkiffError('EINVAL', 'The "until" filter is not supported with "--volumes"');
  const c = await pruneContainers(o.filters);
  await o.beforeNetworks?.();
  const networks = await pruneNetworks(o.filters);
  const v = o.volumes ? await pruneVolumes(false, o.filters) : { deleted: [], reclaimed: 0 };
  const i = await pruneImages(o.all, o.filters);
  // the build cache has no labels: a label filter keeps all of it
  const b = f.label.length ? { deleted: [], reclaimed: 0 } : await pruneBuildCache(o.all, f.until !== undefined ? { until: f.until } : {});
  return {
    containers: c.deleted, networks, volumes: v.deleted, images: i.deleted, buildCache: b.deleted,
    reclaimed: c.reclaimed + v.reclaimed + i.reclaimed + b.reclaimed,
  };
}
