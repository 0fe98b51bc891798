/**
 * `export`: the container's filesystem (its upper dir over its image's layers, volumes and other
 * mounts left out, as Docker's) as one tar, owners, modes, links, device nodes (major/minor),
 * fifos and xattrs (PAX `SCHILY.xattr.*`) kept, read straight from the layers (no copy).
 * `diff`: a container's changes against its image, read from its overlay upper directory (never
 * mounted): a whiteout is a deleted path (D); an entry the image has too is changed (C: copied-up
 * parents included, as Docker's overlay driver reports them), any other is added (A); below an
 * opaque directory, what the image had and the upper dir does not is deleted. Sorted by path,
 * Docker's order and kinds (0 C, 1 A, 2 D).
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import path from 'node:path';
import { containerFiles, findContainer } from '../store/containers.js';
import { diffDir } from '../store/layers.js';
import { native } from '../native.js';
import { packMergedTree } from '../store/tarball.js';
import { pipeTo } from './cp.js';
import { joinRel, LayeredTree } from './tree.js';
import { upperOwners } from '../container/keep-id.js';

export type ChangeKind = 0 | 1 | 2;
export interface Change {
  Path: string;
  Kind: ChangeKind;
}

export function containerChanges(ref: string): Change[] {
  const rec = findContainer(ref);
  const upper = containerFiles(rec.Id).upper;
  const image = new LayeredTree(rec.Layers.map(diffDir).reverse());
  const out: Change[] = [];
  const walk = (rel: string): void => {
    const dir = rel ? path.join(upper, rel) : upper;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return; // never started: no upper dir
    }
    if (rel && native().lgetxattr(dir, `${image.prefix}opaque`)?.toString('latin1') === 'y') {
      for (const n of image.children(rel)) if (!names.includes(n)) out.push({ Path: `/${joinRel(rel, n)}`, Kind: 2 });
    }
    for (const n of names) {
      const r = joinRel(rel, n);
      const st = fs.lstatSync(path.join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: `/${r}`, Kind: 2 });
        continue;
      }
      out.push({ Path: `/${r}`, Kind: image.entry(r) ? 0 : 1 });
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** `export [-o FILE]`: the merged filesystem as a tar on what `open` gives (called once the container is found). */
export async function exportContainer(ref: string, open: () => Writable): Promise<void> {
  const rec = findContainer(ref);
  const upper = containerFiles(rec.Id).upper;
  const tree = new LayeredTree([upper, ...rec.Layers.map(diffDir).reverse()]);
  // a keep-id container's own files are owned for its maps: the tar gets the ids they have inside
  const ids = upperOwners(rec.HostConfig.UsernsMode);
  const owner = ids && ((host: string, st: fs.Stats) => (host.startsWith(`${upper}/`) ? ids(st.uid, st.gid) : { uid: st.uid, gid: st.gid }));
  await pipeTo(packMergedTree(tree, owner), open());
}
