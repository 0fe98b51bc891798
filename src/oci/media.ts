/**
 * OCI and Docker media types, the manifest / index / image-config types and their validation
 * (platform selection from an index: platform.ts).
 */
import { SkiffError } from '../errors.js';
import { digestProblem } from './digest.js';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Accept header for manifest requests: indexes first, then manifests; schema 1 last, only to say clearly that it is unsupported. */
export const MANIFEST_ACCEPT: string[] = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest, MT.dockerSchema1Signed];

/**
 * The largest image config, manifest or index skiff reads (archive JSON, a registry's config blob):
 * real ones are kilobytes; each is held in memory and parsed whole. Registries cap manifests at 4 MiB.
 */
export const MAX_JSON_DOCUMENT = 8 * 1024 * 1024;

export const INDEX_TYPES: ReadonlySet<string> = new Set([MT.ociIndex, MT.dockerList]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([MT.ociManifest, MT.dockerManifest]);
export const CONFIG_TYPES: ReadonlySet<string> = new Set([MT.ociConfig, MT.dockerConfig]);
export const LAYER_TYPES: ReadonlySet<string> = new Set([
  MT.ociLayer, MT.ociLayerGzip, MT.ociLayerZstd,
  MT.ociLayerNondistributable, MT.ociLayerNondistributableGzip, MT.ociLayerNondistributableZstd,
  MT.dockerLayerGzip, MT.dockerForeign,
]);

/** The compression a layer media type declares (the bytes' magic numbers decide in the end). */
export function layerCompression(mediaType: string): 'gzip' | 'zstd' | 'none' {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd')) return 'zstd';
  return 'none';
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
  artifactType?: string;
  data?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Docker's health check; durations in nanoseconds. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config (OCI field names, which are Docker's). */
export interface ContainerConfigFields {
  User?: string;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  /** Docker only: seconds to wait on stop. */
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  ArgsEscaped?: boolean;
  /** Docker's container_config noise: kept so `inspect` can print what was there. */
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Image?: string;
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
  'os.version'?: string;
  'os.features'?: string[];
  config?: ContainerConfigFields;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  /** Docker-only fields some images carry. */
  container?: string;
  container_config?: ContainerConfigFields;
  docker_version?: string;
}

export type ParsedManifest =
  | { kind: 'manifest'; manifest: Manifest; mediaType: string }
  | { kind: 'index'; index: Index; mediaType: string };

/** RFC 6838 shape, as the OCI schema checks it. */
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const bad = (what: string, why: string): SkiffError => new SkiffError('EREGISTRY', `invalid manifest for ${what}: ${why}`);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function checkStringMap(x: unknown, where: string, fail: (why: string) => SkiffError): void {
  if (x === undefined) return;
  if (!isObject(x) || !Object.values(x).every((v) => typeof v === 'string')) throw fail(`${where} must map strings to strings`);
}

function checkMediaType(x: unknown, where: string, fail: (why: string) => SkiffError): void {
  if (typeof x !== 'string' || !MEDIA_TYPE_RE.test(x)) throw fail(`${where} is not a valid media type`);
}

/**
 * Validate one descriptor as OCI's content-descriptor schema does (mediaType, digest and size
 * required; digest must also be one we can verify). `what` names the document for messages.
 */
export function parseDescriptor(d: unknown, where: string, what = 'descriptor'): Descriptor {
  const fail = (why: string): SkiffError => bad(what, why);
  if (!isObject(d)) throw fail(`${where} is not an object`);
  checkMediaType(d.mediaType, `${where}.mediaType`, fail);
  if (typeof d.digest !== 'string') throw fail(`${where}.digest is missing`);
  const problem = digestProblem(d.digest);
  if (problem) throw fail(`${where}.digest "${d.digest}": ${problem}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw fail(`${where}.size must be a non-negative integer`);
  if (d.urls !== undefined && (!Array.isArray(d.urls) || !d.urls.every((u) => typeof u === 'string'))) throw fail(`${where}.urls must be a list of strings`);
  checkStringMap(d.annotations, `${where}.annotations`, fail);
  if (d.artifactType !== undefined) checkMediaType(d.artifactType, `${where}.artifactType`, fail);
  if (d.data !== undefined && (typeof d.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d.data))) throw fail(`${where}.data must be base64`);
  if (d.platform !== undefined) {
    const p = d.platform;
    if (!isObject(p) || typeof p.os !== 'string' || typeof p.architecture !== 'string') throw fail(`${where}.platform needs os and architecture`);
    if (p.variant !== undefined && typeof p.variant !== 'string') throw fail(`${where}.platform.variant must be a string`);
  }
  return d as unknown as Descriptor;
}

/**
 * Parse and validate a manifest or an index. The body's `mediaType` wins over `headerMediaType`
 * (the Content-Type the registry sent, or the descriptor's media type); without either, the shape
 * decides. Schema 1 and unknown manifest types are refused with a message naming `what`.
 */
export function parseManifest(bytes: Buffer, headerMediaType?: string, what = 'image'): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(what, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw bad(what, 'not a JSON object');
  const header = (headerMediaType ?? '').split(';')[0]!.trim().toLowerCase();
  const bodyType = doc.mediaType;
  if (bodyType !== undefined && typeof bodyType !== 'string') throw bad(what, 'mediaType must be a string');
  if (doc.schemaVersion === 1 || header.startsWith('application/vnd.docker.distribution.manifest.v1') ||
      (bodyType ?? '').startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new SkiffError('EREGISTRY',
      `${what} uses Docker image manifest version 2, schema 1, which is deprecated and not supported: ask its publisher to push it again in the OCI or Docker schema 2 format`);
  }
  if (doc.schemaVersion !== 2) throw bad(what, `schemaVersion must be 2 (got ${JSON.stringify(doc.schemaVersion)})`);
  const known = (t: string): boolean => INDEX_TYPES.has(t) || MANIFEST_TYPES.has(t);
  // A Content-Type that is not a manifest type (application/json, octet-stream...) says nothing.
  const mediaType = bodyType ?? (known(header) ? header : '');
  let kind: 'manifest' | 'index';
  if (INDEX_TYPES.has(mediaType)) kind = 'index';
  else if (MANIFEST_TYPES.has(mediaType)) kind = 'manifest';
  else if (mediaType === '') kind = Array.isArray(doc.manifests) ? 'index' : 'manifest';
  else throw bad(what, `unsupported manifest media type "${mediaType}"`);
  if (bodyType && known(header) && header !== bodyType) {
    throw bad(what, `it was sent as "${header}" but says it is "${bodyType}"`);
  }
  checkStringMap(doc.annotations, 'annotations', (why) => bad(what, why));
  if (doc.artifactType !== undefined) checkMediaType(doc.artifactType, 'artifactType', (why) => bad(what, why));
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, 'subject', what);
  const common = {
    ...(mediaType ? { mediaType } : {}),
    ...(typeof doc.artifactType === 'string' ? { artifactType: doc.artifactType } : {}),
    ...(subject ? { subject } : {}),
    ...(doc.annotations ? { annotations: doc.annotations as Record<string, string> } : {}),
  };
  if (kind === 'index') {
    if (!Array.isArray(doc.manifests)) throw bad(what, 'an index needs a "manifests" list');
    if (doc.config !== undefined || doc.layers !== undefined) throw bad(what, 'an index cannot have config or layers');
    const manifests = doc.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`, what));
    return { kind, index: { schemaVersion: 2, ...common, manifests }, mediaType: mediaType || MT.ociIndex };
  }
  if (doc.manifests !== undefined) throw bad(what, 'a manifest cannot have a "manifests" list');
  if (doc.config === undefined) throw bad(what, 'the config descriptor is missing');
  if (!Array.isArray(doc.layers)) throw bad(what, 'the "layers" list is missing');
  const manifest: Manifest = {
    schemaVersion: 2,
    ...common,
    config: parseDescriptor(doc.config, 'config', what),
    layers: doc.layers.map((l, i) => parseDescriptor(l, `layers[${i}]`, what)),
  };
  return { kind, manifest, mediaType: mediaType || MT.ociManifest };
}

/** Parse and check an image config (architecture, os, rootfs.diff_ids as digests). */
export function parseImageConfig(bytes: Buffer, what = 'image'): ImageConfig {
  const fail = (why: string): SkiffError => new SkiffError('EREGISTRY', `invalid image config for ${what}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw fail(`not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw fail('not a JSON object');
  if (typeof doc.architecture !== 'string' || typeof doc.os !== 'string') throw fail('architecture and os are required');
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) throw fail('rootfs must be {"type":"layers","diff_ids":[...]}');
  for (const d of rootfs.diff_ids) {
    const problem = typeof d === 'string' ? digestProblem(d) : 'not a string';
    if (problem) throw fail(`rootfs.diff_ids has "${String(d)}": ${problem}`);
  }
  if (doc.config !== undefined && doc.config !== null && !isObject(doc.config)) throw fail('config must be an object');
  const c = (doc.config ?? {}) as Record<string, unknown>;
  for (const k of ['Env', 'Entrypoint', 'Cmd']) {
    const v = c[k];
    if (v !== undefined && v !== null && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) throw fail(`config.${k} must be a list of strings`);
  }
  if (doc.history !== undefined && !Array.isArray(doc.history)) throw fail('history must be a list');
  return doc as unknown as ImageConfig;
}
