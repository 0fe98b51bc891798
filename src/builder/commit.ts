/**
 * `commit`: a container's changes (its overlay upper dir) become one new layer on top of its
 * image, with the container's config (Env, Cmd, Entrypoint, WorkingDir, User, Labels) and
 * `--change` instructions applied, stored like any built image.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SkiffError } from '../errors.js';
import { readImageConfig, requireImage } from '../image/local.js';
import { MT, type ImageConfig } from '../oci/media.js';
import { canonical, parseReference } from '../oci/reference.js';
import { extractOptions } from '../image/pull.js';
import { writeFileAtomic } from '../store/atomic.js';
import { containerFiles, findContainer, type ContainerRecord } from '../store/containers.js';
import { pauseContainer, unpauseContainer } from '../container/lifecycle.js';
import { containerState } from '../container/state.js';
import { extractLayer } from '../store/extract.js';
import { putImage, type ImageRecord } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { createLayer, layerMeta, whileAddingLayers } from '../store/layers.js';
import { chainIdOf } from '../oci/chainid.js';
import { packDirectory, packedDigest } from '../store/tarball.js';
import { applyChanges } from './metadata.js';
import { upperOwners } from '../container/keep-id.js';

export interface CommitOptions {
  repository?: string;
  author?: string;
  message?: string;
  changes: string[];
  /** Docker's --pause (default true): a running container is frozen while its changes are read */
  pause?: boolean;
  /** a line for stderr (a container that cannot be paused is committed running, with this said) */
  warn?: (line: string) => void;
}

/** Returns the new image id. */
export async function commitContainer(ref: string, o: CommitOptions): Promise<string> {
  const ctr = findContainer(ref);
  const frozen = o.pause ? await freeze(ctr, o.warn) : false;
  try {
    return await whileAddingLayers(() => commit(ref, o));
  } finally {
    if (frozen) await unpauseContainer(ctr);
  }
}

/** Pause a running container for the commit; false when it was not running, already paused, or cannot be. */
async function freeze(ctr: ContainerRecord, warn: (line: string) => void = () => undefined): Promise<boolean> {
  const st = containerState(ctr);
  if (!st.Running || st.Paused) return false;
  try {
    await pauseContainer(ctr);
    return true;
  } catch (e) {
    if (!(e instanceof SkiffError)) throw e;
    warn(`WARNING: ${e.message}: committing the container while it runs (--pause=false says so without this warning)`);
    return false;
  }
}

async function commit(ref: string, o: CommitOptions): Promise<string> {
  const ctr = findContainer(ref);
  const base = await requireImage(ctr.Image).catch(() => {
    throw new SkiffError('ENOIMAGE', `the image of container ${ctr.Name} (${ctr.Image.slice(7, 19)}) is gone: cannot commit`);
  });
  const baseCfg = await readImageConfig(base);
  const upper = containerFiles(ctr.Id).upper;
  // a keep-id container's files are owned for its own maps: the layer gets the ids they have inside
  const owner = upperOwners(ctr.HostConfig.UsernsMode);
  const pack = owner ? { owner } : {};
  const diffId = await packedDigest(upper, pack);
  const chainId = chainIdOf(base.layers.at(-1)?.chainId ?? null, diffId);
  const { meta } = await createLayer({ chainId, diffId, parent: base.layers.at(-1)?.chainId ?? null }, async (diff) => (await extractLayer(packDirectory(upper, pack), diff, extractOptions())).size);
  const image: ImageConfig = structuredClone(baseCfg);
  const c = (image.config ??= {});
  c.Env = ctr.Config.Env.filter((e) => !e.startsWith('HOSTNAME='));
  c.Cmd = ctr.Config.Cmd;
  c.Entrypoint = ctr.Config.Entrypoint;
  c.WorkingDir = ctr.Config.WorkingDir;
  c.User = ctr.Config.User;
  c.Labels = Object.keys(ctr.Config.Labels).length ? ctr.Config.Labels : (c.Labels ?? null);
  applyChanges(image, o.changes);
  const created = new Date().toISOString();
  if (o.author) image.author = o.author;
  image.created = created;
  image.rootfs = { type: 'layers', diff_ids: [...base.layers.map((l) => l.diffId), diffId] };
  image.history = [...(image.history ?? []), { created, created_by: `${ctr.Path} ${ctr.Args.join(' ')}`.trim(), ...(o.message ? { comment: o.message } : {}), ...(o.author ? { author: o.author } : {}) }];
  delete image.container;
  delete image.container_config;
  const bytes = Buffer.from(JSON.stringify(image));
  const id = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
  if (!fs.existsSync(blobPath(id))) await writeFileAtomic(blobPath(id), bytes, 0o644);
  let size = meta.size;
  for (const l of base.layers) size += (await layerMeta(l.chainId))?.size ?? 0;
  const rec: ImageRecord = {
    id,
    configMediaType: MT.ociConfig,
    repoDigests: [],
    layers: [...base.layers, { chainId, diffId }],
    size,
    created,
    added: created,
  };
  await putImage(rec, o.repository ? [canonical(parseReference(o.repository))] : []);
  return id;
}
