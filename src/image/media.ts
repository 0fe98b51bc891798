/** OCI and Docker media types, manifest/index/config types, and platform selection. */
import { SkiffError } from '../errors.js';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const MANIFEST_ACCEPT = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface ContainerConfigFields {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfigFields;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export type ParsedManifest = { kind: 'manifest'; manifest: Manifest; mediaType: string } | { kind: 'index'; index: Index; mediaType: string };

function bad(why: string): SkiffError {
  return new SkiffError('EREGISTRY', `invalid manifest: ${why}`);
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x !== 'object' || typeof x.mediaType !== 'string' || typeof x.digest !== 'string' || typeof x.size !== 'number') {
    throw bad(`${where} is not a valid descriptor (mediaType, digest and size are required)`);
  }
  if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(x.digest)) throw bad(`${where} has an invalid digest`);
  return x;
}

export function parseManifest(bytes: Buffer, headerMediaType?: string): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  const mediaType = (typeof doc.mediaType === 'string' ? doc.mediaType : undefined) ?? headerMediaType ?? '';
  if (doc.schemaVersion === 1 || mediaType === MT.dockerSchema1 || mediaType.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new SkiffError('EREGISTRY', 'Docker image manifest schema 1 is deprecated and not supported: push the image again with a current client');
  }
  if (doc.schemaVersion !== 2) throw bad('schemaVersion must be 2');
  if (Array.isArray(doc.manifests) || mediaType === MT.ociIndex || mediaType === MT.dockerList) {
    if (!Array.isArray(doc.manifests)) throw bad('index has no manifests');
    const manifests = doc.manifests.map((m, i) => checkDescriptor(m, `manifests[${i}]`));
    return { kind: 'index', index: { schemaVersion: 2, manifests, ...(mediaType ? { mediaType } : {}) }, mediaType: mediaType || MT.ociIndex };
  }
  if (!doc.config) throw bad('config descriptor missing');
  if (!Array.isArray(doc.layers)) throw bad('layers missing');
  const manifest: Manifest = {
    schemaVersion: 2,
    config: checkDescriptor(doc.config, 'config'),
    layers: doc.layers.map((l, i) => checkDescriptor(l, `layers[${i}]`)),
    ...(mediaType ? { mediaType } : {}),
  };
  return { kind: 'manifest', manifest, mediaType: mediaType || MT.ociManifest };
}

/** Pick the manifest for a platform from an index (linux/amd64 by default; arm64 defaults to variant v8). */
export function selectPlatform(index: Index, want: { os: string; arch: string; variant?: string }): Descriptor {
  const norm = (a: string): string => (a === 'x86_64' || a === 'x64' ? 'amd64' : a === 'aarch64' ? 'arm64' : a);
  const arch = norm(want.arch);
  const candidates = index.manifests.filter((m) => m.platform && m.platform.os === want.os && norm(m.platform.architecture) === arch);
  const variantOf = (m: Descriptor): string | undefined => m.platform?.variant ?? (arch === 'arm64' ? 'v8' : undefined);
  const wantVariant = want.variant ?? (arch === 'arm64' ? 'v8' : undefined);
  const exact = candidates.find((m) => wantVariant === undefined || variantOf(m) === wantVariant) ?? (want.variant ? undefined : candidates[0]);
  if (!exact) {
    const have = index.manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? '/' + m.platform.variant : ''}` : '?')).join(', ');
    throw new SkiffError('ENOIMAGE', `no image found in manifest list for platform ${want.os}/${arch}${want.variant ? '/' + want.variant : ''} (available: ${have})`);
  }
  return exact;
}
