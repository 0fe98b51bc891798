/** Local image management: list, tag, remove, prune, inspect, history. Returns data; the CLI prints. */
import { recordEvent } from '../store/events.js';
import fsp from 'node:fs/promises';
import { SkiffError } from '../errors.js';
import { createdSince, goTimeString, humanSize, rfc3339Seconds } from '../lib/units.js';
import { listContainers } from '../store/containers.js';
import {
  deleteImageLocked, getImage, listImages, readRepositories, removeTagLocked, setTag, tagsById, type ImageRecord,
} from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { removeLayersExcept, whileNoneAdding } from '../store/layers.js';
import { withLock } from '../store/lock.js';
import { findImage, readImageConfig, requireImage } from './local.js';
import { canonical, familiar, parseReference } from '../oci/reference.js';
import { labelsMatch, parseImageFilters, referenceMatches } from './filters.js';
import type { HistoryEntry } from '../oci/media.js';
import { byteOrder } from '../lib/order.js';

export interface ImageRow {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
}

/** A canonical tag as `images` shows it: the familiar repository and the tag. */
export function splitRepoTag(full: string): { repo: string; tag: string } {
  const fam = familiar(parseReference(full));
  const at = fam.lastIndexOf(':');
  const slash = fam.lastIndexOf('/');
  return at > slash ? { repo: fam.slice(0, at), tag: fam.slice(at + 1) } : { repo: fam, tag: '<none>' };
}

/** Docker's `images --filter` keys. */
export const IMAGES_FILTERS = ['dangling', 'reference', 'before', 'since', 'label', 'until'] as const;

export interface ListImagesOptions {
  all: boolean;
  noTrunc: boolean;
  digests: boolean;
  /** `images [REFERENCE]`: Docker turns it into a reference filter. */
  filterRef?: string;
  /** `--filter key=value` as given. */
  filters?: string[];
}

/** The created time an image is compared by (before/since/until): its config's, as Docker does. */
const createdMs = (img: ImageRecord): number => Date.parse(img.created);

async function requireCreated(ref: string): Promise<number> {
  return createdMs(await requireImage(ref));
}

/**
 * The images `images` lists (newest first) with their tags (canonical names), filtered; `refs` keeps
 * the tags the reference filters match (an image without tags only when there is none).
 */
export async function selectImages(o: Pick<ListImagesOptions, 'filterRef' | 'filters'> & { withLabels?: boolean }): Promise<{ img: ImageRecord; refs: string[]; labels: Record<string, string> | undefined }[]> {
  const f = parseImageFilters(o.filters ?? [], IMAGES_FILTERS);
  if (o.filterRef) f.reference.push(o.filterRef);
  const before = await Promise.all(f.before.map(requireCreated));
  const since = await Promise.all(f.since.map(requireCreated));
  const images = (await listImages()).sort((a, b) => byteOrder(b.created, a.created));
  const tags = await tagsById();
  const out: { img: ImageRecord; refs: string[]; labels: Record<string, string> | undefined }[] = [];
  for (const img of images) {
    const all = tags.get(img.id) ?? [];
    const t = createdMs(img);
    if (f.dangling !== undefined && f.dangling !== (all.length === 0)) continue;
    if (before.some((b) => !(t < b)) || since.some((x) => !(t > x))) continue;
    if (f.until !== undefined && !(t < f.until)) continue;
    // the config is read only when its labels are wanted (`images` lists without opening them)
    const labels = f.label.length || o.withLabels ? ((await readImageConfig(img)).config?.Labels ?? undefined) : undefined;
    if (f.label.length && !labelsMatch(f.label, labels)) continue;
    const refs = all.sort().filter((r) => {
      if (!f.reference.length) return true;
      const { repo, tag } = splitRepoTag(r);
      return f.reference.some((p) => referenceMatches(p, repo, tag));
    });
    if (f.reference.length && !refs.length) continue;
    out.push({ img, refs, labels });
  }
  return out;
}

/** The Engine API's image list entries (Docker's ImageSummary) for `GET /images/json`. */
export async function imageSummaries(o: Pick<ListImagesOptions, 'filterRef' | 'filters'>): Promise<Record<string, unknown>[]> {
  return (await selectImages({ ...o, withLabels: true })).map(({ img, refs, labels }) => ({
    Id: img.id,
    ParentId: '',
    RepoTags: refs.map((r) => familiar(parseReference(r))),
    RepoDigests: img.repoDigests.map((d) => d.replace(/^docker\.io\/(library\/)?/, '')),
    Created: Math.floor(createdMs(img) / 1000),
    Size: img.size,
    SharedSize: -1,
    VirtualSize: img.size,
    Labels: labels ?? {},
    Containers: -1,
  }));
}

export async function listImageRows(o: ListImagesOptions): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  for (const { img, refs } of await selectImages(o)) {
    const id = o.noTrunc ? img.id : img.id.slice(7, 19);
    const base = {
      ID: id,
      CreatedSince: createdSince(new Date(img.created)),
      CreatedAt: goTimeString(img.created),
      Size: humanSize(img.size),
      Containers: 'N/A',
    };
    const digest = img.repoDigests[0]?.split('@')[1] ?? '<none>';
    if (refs.length === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: digest });
    for (const r of refs) {
      const { repo, tag } = splitRepoTag(r);
      rows.push({ ...base, Repository: repo, Tag: tag, Digest: digest });
    }
  }
  return rows;
}

export async function tagImage(source: string, target: string): Promise<void> {
  const img = await requireImage(source);
  const ref = parseReference(target);
  if (ref.digest) throw new SkiffError('EINVAL', `refusing to create a tag with a digest reference: ${target}`);
  await setTag(canonical(ref), img.id);
  recordEvent('image', 'tag', img.id, { name: familiar(ref) });
}

/** Podman's `untag`: remove these names (none: every name) from the image, which stays (untagged, it is dangling). */
export async function untagImage(ref: string, names: readonly string[]): Promise<void> {
  await withLock('images', async () => {
    const img = await findImage(ref);
    if (!img) throw new SkiffError('ENOIMAGE', `No such image: ${ref}`, 1);
    const repos = await readRepositories();
    const tags = Object.entries(repos).filter(([, id]) => id === img.id).map(([r]) => r);
    const wanted = names.length ? names.map((n) => canonical(parseReference(n))) : tags;
    const unknown = wanted.find((t) => repos[t] !== img.id);
    if (unknown) throw new SkiffError('EINVAL', `${familiar(parseReference(unknown))}: tag not known for image ${img.id.slice(7, 19)}`);
    for (const t of wanted) await removeTagLocked(t);
  });
}

export interface RemoveReport {
  untagged: string[];
  deleted: string[];
}

/** `rmi`: untag; delete the image when no tag is left. Refuses images used by containers unless forced. */
export async function removeImage(ref: string, force: boolean): Promise<RemoveReport> {
  const report: RemoveReport = { untagged: [], deleted: [] };
  await whileNoneAdding(() => withLock('images', async () => {
    const img = await findImage(ref);
    if (!img) throw new SkiffError('ENOIMAGE', `No such image: ${ref}`, 1);
    const repos = await readRepositories();
    const tags = Object.entries(repos).filter(([, id]) => id === img.id).map(([r]) => r);
    let byName: string | undefined;
    try {
      const c = canonical(parseReference(ref));
      if (repos[c] === img.id) byName = c;
    } catch {
      /* an id */
    }
    if (byName && tags.length > 1) {
      await removeTagLocked(byName);
      report.untagged.push(familiar(parseReference(byName)));
      recordEvent('image', 'untag', img.id, { name: familiar(parseReference(byName)) });
      return;
    }
    if (!byName && tags.length > 1 && !force) {
      throw new SkiffError('ECONFLICT', `conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const users = listContainers().filter((c) => c.Image === img.id);
    if (users.length && !force) {
      throw new SkiffError('ECONFLICT', `conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]!.Id.slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`);
    }
    for (const t of tags) report.untagged.push(familiar(parseReference(t)));
    for (const d of img.repoDigests) report.untagged.push(d.replace(/^docker\.io\/(library\/)?/, ''));
    await deleteImageLocked(img.id);
    for (const t of tags) recordEvent('image', 'untag', img.id, { name: familiar(parseReference(t)) });
    recordEvent('image', 'delete', img.id, { name: img.id });
    report.deleted.push(img.id);
    await collectGarbageLocked();
  }));
  return report;
}

/** Remove layers and blobs no image record references. Caller holds the 'gc' lock (whileNoneAdding) and the 'images' lock. */
export async function collectGarbageLocked(): Promise<{ layers: string[]; reclaimed: number }> {
  const images = await listImages();
  const keepLayers = new Set<string>();
  const keepBlobs = new Set<string>();
  for (const img of images) {
    keepBlobs.add(img.id.slice(7));
    if (img.manifestDigest) keepBlobs.add(img.manifestDigest.slice(7));
    for (const l of img.layers) {
      keepLayers.add(l.chainId);
      if (l.blobDigest) keepBlobs.add(l.blobDigest.slice(7));
    }
  }
  // Layers of existing containers stay even if their image was force-removed.
  for (const c of listContainers()) for (const l of c.Layers) keepLayers.add(l);
  const layers = await removeLayersExcept(keepLayers);
  let reclaimed = 0;
  const dir = blobPath('sha256:x').slice(0, -1);
  for (const name of await fsp.readdir(dir)) {
    if (!/^[0-9a-f]{64}$/.test(name) || keepBlobs.has(name)) continue;
    const st = await fsp.stat(dir + name).catch(() => undefined);
    reclaimed += st?.size ?? 0;
    await fsp.rm(dir + name, { force: true });
  }
  return { layers, reclaimed };
}

/** Docker's `image prune --filter` keys. */
export const PRUNE_FILTERS = ['until', 'label'] as const;

/**
 * `image prune`: dangling (untagged) images, or with `all` every image no container uses; `filters`
 * narrow it down (`until=` created before, `label=`).
 */
export async function pruneImages(all: boolean, filters: string[] = []): Promise<{ deleted: string[]; reclaimed: number }> {
  const f = parseImageFilters(filters, PRUNE_FILTERS);
  return whileNoneAdding(() => withLock('images', async () => {
    const tags = await tagsById();
    const used = new Set(listContainers().map((c) => c.Image));
    const deleted: string[] = [];
    for (const img of await listImages()) {
      if (used.has(img.id)) continue;
      if (!all && (tags.get(img.id)?.length ?? 0) > 0) continue;
      if (f.until !== undefined && !(createdMs(img) < f.until)) continue;
      if (f.label.length && !labelsMatch(f.label, (await readImageConfig(img)).config?.Labels ?? undefined)) continue;
      await deleteImageLocked(img.id);
      for (const t of tags.get(img.id) ?? []) recordEvent('image', 'untag', img.id, { name: familiar(parseReference(t)) });
      recordEvent('image', 'delete', img.id, { name: img.id });
      deleted.push(img.id);
    }
    const gc = await collectGarbageLocked();
    return { deleted, reclaimed: gc.reclaimed };
  }));
}

/** Docker's `image inspect` JSON. */
export async function inspectImage(ref: string): Promise<Record<string, unknown>> {
  const img = await requireImage(ref);
  const cfg = await readImageConfig(img);
  const tags = (await tagsById()).get(img.id) ?? [];
  return {
    Id: img.id,
    RepoTags: tags.map((t) => familiar(parseReference(t))),
    RepoDigests: img.repoDigests.map((d) => d.replace(/^docker\.io\/(library\/)?/, '')),
    Parent: '',
    Comment: '',
    Created: cfg.created ?? img.created,
    DockerVersion: '',
    Author: cfg.author ?? '',
    Config: cfg.config ?? {},
    Architecture: cfg.architecture,
    Variant: cfg.variant,
    Os: cfg.os,
    Size: img.size,
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: { Type: 'layers', Layers: img.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: img.added },
  };
}

export interface HistoryRow {
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

/** One step of an image's history, newest first: the image's id on the top one (`<missing>` below), the layer's size. */
export interface HistoryStep {
  id: string;
  created?: string;
  createdBy: string;
  size: number;
  comment: string;
  /** the image's names, on the top step */
  tags?: string[];
}

export async function historyEntries(ref: string): Promise<HistoryStep[]> {
  const img = await requireImage(ref);
  const cfg = await readImageConfig(img);
  const { layerMeta } = await import('../store/layers.js');
  const hist: HistoryEntry[] = cfg.history ?? img.layers.map(() => ({ created: cfg.created, created_by: '' }));
  const out: HistoryStep[] = [];
  let li = 0;
  for (const h of hist) {
    let size = 0;
    if (!h.empty_layer) {
      const l = img.layers[li++];
      if (l) size = (await layerMeta(l.chainId))?.size ?? 0;
    }
    out.push({ id: '<missing>', ...(h.created ? { created: h.created } : {}), createdBy: h.created_by ?? '', size, comment: h.comment ?? '' });
  }
  out.reverse();
  if (out[0]) Object.assign(out[0], { id: img.id, tags: ((await tagsById()).get(img.id) ?? []).map((t) => familiar(parseReference(t))) });
  return out;
}

export async function imageHistory(ref: string, noTrunc: boolean): Promise<HistoryRow[]> {
  return (await historyEntries(ref)).map((h, i) => ({
    ID: i === 0 && !noTrunc ? h.id.slice(7, 19) : h.id,
    CreatedSince: h.created ? createdSince(new Date(h.created)) : 'N/A',
    CreatedAt: h.created ? rfc3339Seconds(h.created) : '',
    CreatedBy: noTrunc || h.createdBy.length <= 45 ? h.createdBy : `${h.createdBy.slice(0, 44)}…`,
    Size: humanSize(h.size),
    Comment: h.comment,
  }));
}

export async function imageById(id: string): Promise<ImageRecord | undefined> {
  return getImage(id);
}
