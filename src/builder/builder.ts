/**
 * `build`: Dockerfile stages → an OCI image in the store, stored like a pulled one (config blob,
 * image record, layers as extracted diffs; blobs are packed on push/save).
 *
 * Stages the target needs start at once and wait on each other only where one uses another
 * (FROM stage, COPY --from), so independent stages build concurrently. Each step has a cache key
 * (cache.ts); a hit re-uses the step's layer and creation time, so an unchanged rebuild gives the
 * same image id. A step's diff is made under tmp/ and becomes a layer by rename; its cache entry is
 * written after that, so an interrupted build leaves no entry that points at nothing.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { readImageConfig } from '../image/local.js';
import { ensureImage } from '../image/ensure.js';
import type { PullFn } from '../image/progress.js';
import { MT, type ContainerConfigFields, type HistoryEntry, type ImageConfig } from '../oci/media.js';
import { formatPlatform, hostPlatform, parsePlatform } from '../oci/platform.js';
import { canonical, parseReference } from '../oci/reference.js';
import { makeStagingDir, pidAlive, sweepStaging, writeFileAtomic } from '../store/atomic.js';
import { sweepStepCgroups } from '../container/cgroup.js';
import { cacheMountDir, readCacheEntry, writeCacheEntry, type CacheEntry } from '../store/buildcache.js';
import type { MountPoint } from '../store/containers.js';
import { withLock } from '../store/lock.js';
import { putImage, type ImageRecord, type LayerRef } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { adoptLayer, diffDir, layerMeta, lowerDirs, whileAddingLayers } from '../store/layers.js';
import { chainIdOf } from '../oci/chainid.js';
import { packedDigest } from '../store/tarball.js';
import { baseKey, instructionStep, stepKey } from './cache.js';
import { hashSources, matchSources, openContext, readDockerfile, type BuildContext, type Source } from './context.js';
import { copyInto, DiffWriter } from './copy.js';
import { expandCommand, loadDockerfile, parseTrigger, type AddCommand, type Command, type CopyCommand, type Dockerfile, type MountSpec, type Stage } from './dockerfile/instructions.js';
import { processWord, type EscapeToken } from './dockerfile/shell.js';
import { applyMetadata, envList, envMap, isMetadata, shellOf } from './metadata.js';
import { download } from './download.js';
import { runStep } from './run.js';
import { agentProxy, loadSecrets, loadSshAgents, startSshAgents } from './secrets.js';
import { checkOutputs, parseOutputs, writeArchiveOutput, writeFilesystemOutput, type Output } from './outputs.js';
import { ContextTree, LayeredTree, relPath, type Tree } from './tree.js';
import { parseResources, type ResourceConfig } from '../container/resources.js';
import { CacheSources, exportCache, parseCacheSpec, type CacheSpec, type StepRecord } from './remote-cache.js';
import { contextName, parseBuildContexts } from './named-contexts.js';
import { IgnoreMatcher, readIgnorePatterns } from './dockerignore.js';
import { ImageCache, type ImageCacheHit } from './image-cache.js';
import { findImage, imageComplete } from '../image/local.js';

export interface BuildOptions {
  /** Context directory, or '-' for a tar on stdin. */
  context: string;
  /** -f: a path, '-' for stdin, or undefined for CONTEXT/Dockerfile. */
  file?: string;
  /** `file` is a path inside the context (the Engine API's `dockerfile`), never one of the host's. */
  fileInContext?: boolean;
  /** Where `-` reads from (a function: opening process.stdin costs ~2 ms, most builds never read it). */
  stdin: () => Readable;
  tags: string[];
  /** --build-arg K=V (or K: the value comes from the environment). */
  buildArgs: string[];
  target?: string;
  noCache: boolean;
  pull: boolean;
  labels: string[];
  platform?: string;
  network?: string;
  /** How a base image not in the store is got (the CLI's pull). */
  pullImage: PullFn;
  /** --progress: plain is BuildKit's `#N` style; anything else the classic `STEP n/m` lines. */
  progress?: 'plain' | 'classic';
  /** --no-cache-filter: stages built without the cache. */
  noCacheFilter?: string[];
  /** --add-host HOST:IP for RUN steps' /etc/hosts. */
  addHosts?: string[];
  /** --ulimit NAME=SOFT[:HARD] and --shm-size for RUN steps (as `run`'s). */
  ulimits?: string[];
  shmSize?: string;
  /** --allow: BuildKit's entitlements (security.insecure lets RUN --security=insecure run privileged). */
  allow?: string[];
  /** --secret id=ID[,src=FILE|env=VAR] */
  secrets?: string[];
  /** --ssh default|ID[=SOCKET] */
  ssh?: string[];
  /** -o/--output values. */
  outputs?: string[];
  /** --push: push every tag (and image output) after the build. */
  push?: boolean;
  /** --cache-from / --cache-to values (remote-cache.ts). */
  cacheFrom?: string[];
  cacheTo?: string[];
  /** --build-context NAME=DIR|docker-image://REF (named-contexts.ts). */
  buildContexts?: string[];
  /** --metadata-file: where to write the build's result as JSON. */
  metadataFile?: string;
  /** Where `-o type=tar,dest=-` and archives to `-` go. */
  stdout?: Writable;
  /** One line of progress (the CLI prints it on stderr unless -q). */
  log: (line: string) => void;
  /** Step events for a progress view of the CLI's (rawjson, tty): steps and their output go here, not to `log`/`output`. */
  events?: BuildEvents;
  /** Output of RUN steps. */
  output: Writable;
  /** Cancels the build (the Engine API's client went away): no further step starts, a running RUN is killed. */
  signal?: AbortSignal;
}

/** A build's steps as they go, for a progress view (`#N` numbers, one per step, in start order). */
export interface BuildEvents {
  start(no: number, where: string, text: string): void;
  /** Output of a running step (RUN). */
  output(no: number, data: Buffer): void;
  /** The step ended: from the cache, run, or failed with this message. */
  done(no: number, cached: boolean, error?: string): void;
}

export interface BuildResult {
  id: string;
  tags: string[];
  /** Steps run and steps taken from the cache. */
  steps: number;
  cached: number;
  /** Chain ids of the image's layers, bottom first. */
  layers: string[];
  /** An output went to stdout (the CLI then prints nothing else there). */
  stdoutUsed: boolean;
}

interface LayerInfo extends LayerRef {
  size: number;
}

/**
 * A stage as its steps leave it. Each step changes it in place (copying the config, the labels
 * or the history per step made a build quadratic in its instruction count); a stage that builds
 * on another gets copies of the other's final state (`base`).
 */
interface State {
  key: string;
  layers: LayerInfo[];
  image: ImageConfig;
  /** The config's Env while the stage builds (in order; `image.config.Env` is written when it ends). */
  env: Map<string, string>;
  args: Map<string, string>;
  cmdSet: boolean;
  /** The creation time of the last step (or of the base). */
  created: string;
  /** Progress: the number of the step running in this stage, and whether the cache had it. */
  no?: number;
  hit?: boolean;
  /** --no-cache-filter names this stage. */
  noCache?: boolean;
  /** The stage's index in the Dockerfile (--cache-to mode=min keeps the target's FROM chain). */
  stage?: number;
}

/** Proxy variables Docker passes to RUN from --build-arg without an ARG line (kept out of the image). */
const PREDEFINED_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function parseKeyValues(list: string[], what: string, fromEnv: boolean): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0) throw new SkiffError('EINVAL', `invalid ${what}: ${kv}`);
    if (i < 0) {
      const v = fromEnv ? process.env[kv] : '';
      if (v !== undefined) m.set(kv, v);
    } else m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

export async function build(o: BuildOptions): Promise<BuildResult> {
  if (o.context === '-' && o.file === '-') throw new SkiffError('EINVAL', 'invalid argument: can\'t use stdin for both build context and dockerfile');
  // tags, outputs and --platform are checked before any work, as Docker does
  if (o.platform) checkPlatform(o.platform);
  const outputs = parseOutputs(o.outputs ?? []);
  checkOutputs(outputs);
  // image and archive outputs with a name tag the image (it is in the store in any case)
  o = { ...o, tags: [...o.tags, ...outputs.flatMap((x) => ('name' in x && x.name ? [x.name] : []))] };
  const pushed = new Set(o.push ? o.tags : []);
  for (const x of outputs) if (x.type === 'image' && x.push) (x.name ? [x.name] : o.tags).forEach((t) => pushed.add(t));
  if ((o.push || outputs.some((x) => x.type === 'image' && x.push)) && pushed.size === 0) {
    throw new SkiffError('EINVAL', '--push needs a name for the image: give -t NAME (or -o type=image,name=NAME,push=true)');
  }
  for (const t of o.tags) if (parseReference(t).digest) throw new SkiffError('EINVAL', `invalid tag "${t}": a tag cannot contain a digest`);
  const entitlements = parseEntitlements(o.allow ?? []);
  const limits = parseResources({ ...(o.ulimits?.length ? { ulimits: o.ulimits } : {}), ...(o.shmSize !== undefined ? { shmSize: o.shmSize } : {}) }, o.log);
  const cacheTo = (o.cacheTo ?? []).map((c) => parseCacheSpec(c, 'to'));
  const cacheFrom = (o.cacheFrom ?? []).map((c) => parseCacheSpec(c, 'from'));
  const named = parseBuildContexts(o.buildContexts ?? []);
  const secrets = loadSecrets(o.secrets ?? []);
  const sshSources = loadSshAgents(o.ssh ?? []);
  await sweepStaging(); // what killed builds left under tmp/
  sweepStepCgroups(pidAlive); // and their RUN steps' cgroups
  const opened = new Map<string, OpenNamed>();
  const ctx = await openContext(o.context, o.context === '-' ? o.stdin() : undefined);
  let remote: CacheSources | undefined;
  let agents: Awaited<ReturnType<typeof startSshAgents>> | undefined;
  try {
    agents = await startSshAgents(sshSources);
    for (const [k, v] of named) {
      if (v.kind === 'image') opened.set(k, v);
      else {
        try {
          opened.set(k, { name: v.name, kind: 'dir', ctx: await openContext(v.dir) });
        } catch (e) {
          throw e instanceof SkiffError ? new SkiffError(e.code, `build context ${v.name}: ${e.message}`, e.exitCode) : e;
        }
      }
    }
    const { text, name } = await readDockerfile(ctx, o.file, o.stdin, o.fileInContext);
    const df = loadDockerfile(text, name);
    if (df.stages.length === 0) throw new SkiffError('EINVAL', `${name}: the Dockerfile has no FROM instruction (file with no instructions)`);
    for (const w of df.warnings) o.log(`[Warning] ${w.short}`);
    for (const c of cacheFrom) o.log(`importing cache manifest from ${c.type === 'registry' ? c.ref : c.dir}`);
    // a bare --cache-from REF of an image in the store is that image's layers (classic); elsewhere a
    // registry cache, unless the registry has an image there (then pulled and used the same way)
    const images: string[] = [];
    const caches: CacheSpec[] = [];
    for (const c of o.noCache ? [] : cacheFrom) {
      const local = c.type === 'registry' && c.bare ? await findImage(c.ref) : undefined;
      if (local && imageComplete(local)) images.push(local.id);
      else caches.push(c);
    }
    const b = new Builder(o, df, ctx, secrets, agents.sockets, cacheTo, opened, limits, entitlements);
    b.startBases(); // their pulls overlap reading the caches
    remote = caches.length ? await CacheSources.load(caches, o.log) : undefined; // starts fetching the caches' layers
    images.push(...(remote?.images ?? []));
    b.useCaches(remote, images.length ? await openImageCache(images, o) : undefined);
    const r = await whileAddingLayers(() => b.run()); // rmi/prune must not collect a step's layer before the image names it
    await remote?.close(); // the staged blobs go before the outputs are written
    return await deliver(o, outputs, [...pushed], r);
  } finally {
    await remote?.close();
    await agents?.close();
    for (const v of opened.values()) if (v.kind === 'dir') await v.ctx.dispose();
    await ctx.dispose();
  }
}

/** A named context as the build uses it: a directory opened like the main context, or an image. */
type OpenNamed = { name: string; kind: 'dir'; ctx: BuildContext } | { name: string; kind: 'image'; ref: string };

class Builder {
  private readonly buildArgs: Map<string, string>;
  /** --add-host lines for RUN's /etc/hosts ("IP\tNAME"). */
  private readonly extraHosts: string[];
  private readonly usedArgs = new Set<string>();
  private readonly globalArgs = new Map<string, string>();
  private readonly escape: EscapeToken;
  private readonly stages = new Map<number, Promise<State>>();
  /** The build's staging dir under tmp/, made when a step first needs one (a cached build needs none). */
  private workDir: Promise<string> | undefined;
  private readonly file: string;
  private steps = 0;
  private cached = 0;
  private readonly total: number;

  constructor(
    private readonly o: BuildOptions, private readonly df: Dockerfile, private readonly ctx: BuildContext,
    private readonly secrets: Map<string, Buffer>, private readonly agents: Map<string, string>,
    private readonly cacheTo: CacheSpec[] = [],
    private readonly named = new Map<string, OpenNamed>(),
    /** --ulimit, --shm-size: RUN steps' limits. */
    private readonly limits: Pick<ResourceConfig, 'Ulimits' | 'ShmSize'> = {},
    /** --allow: the entitlements granted. */
    private readonly entitlements = new Set<Entitlement>(),
  ) {
    this.buildArgs = parseKeyValues(o.buildArgs, 'build argument', true);
    this.extraHosts = (o.addHosts ?? []).map(parseAddHost);
    this.escape = df.escapeToken;
    this.file = df.stages[0]!.location.file;
    const host = hostPlatform();
    const plat = formatPlatform(host);
    for (const [k, v] of Object.entries({
      BUILDPLATFORM: plat, BUILDOS: host.os, BUILDARCH: host.arch, BUILDVARIANT: host.variant ?? '',
      TARGETPLATFORM: plat, TARGETOS: host.os, TARGETARCH: host.arch, TARGETVARIANT: host.variant ?? '',
    })) this.globalArgs.set(k, v);
    for (const a of df.metaArgs) {
      for (const d of a.args) {
        const given = this.buildArgs.get(d.name);
        if (given !== undefined) this.usedArgs.add(d.name);
        // each default sees the ARGs before it (also earlier ones on its line), as in BuildKit
        const dflt = expandCommand({ ...a, args: [d] }, (k) => this.globalArgs.get(k), this.escape).args[0]!.default;
        const v = given ?? dflt;
        if (v !== undefined) this.globalArgs.set(d.name, v);
      }
    }
    this.total = df.stages.reduce((n, s) => n + 1 + s.commands.length, 0);
  }

  /** --cache-from's caches (remote-cache.ts) and classic cache images (image-cache.ts), once read. */
  private remote?: CacheSources;
  private imageCache?: ImageCache;

  useCaches(remote: CacheSources | undefined, imageCache: ImageCache | undefined): void {
    this.remote = remote;
    this.imageCache = imageCache;
  }

  /**
   * Start getting the images the target's stages are based on (pulls, when missing), so that they
   * overlap what the build does before its stages start (reading --cache-from's caches). Their errors
   * surface where the stage awaits its base, as before; a stage with --platform is left to its turn.
   */
  startBases(): void {
    try {
      for (const i of this.needed(this.target())) {
        const s = this.df.stages[i]!;
        if (s.platform || (s.name && this.namedContext(s.name))) continue;
        const name = this.expandMeta(s.baseName);
        const j = this.stageIndex(name);
        if ((j !== undefined && j < i) || this.namedContext(name) || name.toLowerCase() === 'scratch') continue;
        this.image(name).catch(() => undefined);
      }
    } catch {
      // a bad --target or base name: run() reports it where it did
    }
  }

  private target(): number {
    if (this.o.target === undefined) return this.df.stages.length - 1;
    const t = this.stageIndex(this.o.target);
    if (t === undefined) throw new SkiffError('EINVAL', `failed to reach build target ${this.o.target} in Dockerfile`);
    return t;
  }

  private stageIndex(name: string): number | undefined {
    const lower = name.toLowerCase();
    const i = this.df.stages.findIndex((s) => s.name === lower);
    if (i >= 0) return i;
    if (/^\d+$/.test(name) && Number(name) < this.df.stages.length) return Number(name);
    return undefined;
  }

  /** The named context a FROM, --from or stage name stands for, if any. */
  private namedContext(word: string): OpenNamed | undefined {
    if (this.named.size === 0) return undefined;
    const n = contextName(word);
    return n === undefined ? undefined : this.named.get(n);
  }

  /** The stages the target needs (by FROM and COPY --from), target last. */
  private needed(target: number): number[] {
    const out = new Set<number>();
    const visit = (i: number): void => {
      if (out.has(i)) return;
      const s = this.df.stages[i]!;
      const deps = s.name && this.namedContext(s.name) ? [] : [this.expandMeta(s.baseName), ...s.commands.filter((c): c is CopyCommand => c.kind === 'COPY' && c.from !== '').map((c) => this.expandMeta(c.from))];
      for (const d of deps) {
        const j = this.stageIndex(d);
        if (j !== undefined && j < i) visit(j);
      }
      out.add(i);
    };
    visit(target);
    return [...out];
  }

  private expandMeta(word: string): string {
    return processWord(word, (k) => this.globalArgs.get(k), { escape: this.escape });
  }

  async run(): Promise<BuildResult> {
    const target = this.target();
    try {
      const order = this.needed(target);
      for (const i of order) this.stage(i).catch(() => undefined); // start them all; errors surface below
      const results = await Promise.allSettled(order.map((i) => this.stage(i)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const state = await this.stage(target);
      const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.has(k));
      if (unused.length) this.o.log(`[Warning] one or more build-args [${unused.join(' ')}] were not consumed`);
      await this.exportCaches(target);
      return await this.commit(state);
    } finally {
      if (this.workDir) await fsp.rm(await this.workDir, { recursive: true, force: true });
    }
  }

  private work(): Promise<string> {
    return (this.workDir ??= makeStagingDir('build'));
  }

  private stage(i: number): Promise<State> {
    let p = this.stages.get(i);
    if (!p) {
      p = this.buildStage(i);
      this.stages.set(i, p);
    }
    return p;
  }

  private where(c: { location: { startLine: number }; name: string }): string {
    return `${this.file}:${c.location.startLine}: ${c.name.toUpperCase()}`;
  }

  private async buildStage(i: number): Promise<State> {
    const s = this.df.stages[i]!;
    const label = this.df.stages.length > 1 ? `${s.name || `stage-${i}`} ` : '';
    const replaced = s.name ? this.namedContext(s.name) : undefined;
    if (replaced) {
      // a named context of the stage's name is the stage: its instructions do not run (BuildKit)
      const no = this.step(`FROM ${namedText(replaced)} AS ${s.name}`, `${label}1/1`);
      const t0 = Date.now();
      try {
        const st = await this.namedBase(replaced);
        this.done(no, t0, st.hit ?? false);
        st.stage = i;
        return st;
      } catch (e) {
        throw this.failed(no, this.wrap(e, { location: s.location, name: s.origCmd || 'FROM' }));
      }
    }
    const count = 1 + s.commands.length;
    const from = this.step(`FROM ${s.baseName}${s.name ? ` AS ${s.name}` : ''}`, `${label}1/${count}`);
    const t0 = Date.now();
    let state: State;
    try {
      state = await this.base(s, i);
    } catch (e) {
      throw this.failed(from, this.wrap(e, { location: s.location, name: s.origCmd || 'FROM' }));
    }
    this.done(from, t0, false);
    state.noCache = (this.o.noCacheFilter ?? []).some((f) => this.stageIndex(f) === i);
    state.stage = i;
    // like BuildKit and Buildah, a stage whose base sets no PATH gets the default one
    state.image.config ??= {};
    state.env = envMap(state.image.config.Env);
    if (!state.env.has('PATH')) state.env.set('PATH', DEFAULT_PATH.slice(5));
    const triggers = state.image.config?.OnBuild ?? [];
    if (triggers.length) state.image.config!.OnBuild = null;
    const commands: Command[] = [...triggers.map((t) => parseTrigger(t, this.file)), ...s.commands];
    for (const [k, cmd] of commands.entries()) {
      state.no = this.step(cmd.code, `${label}${Math.max(2, k + 2 - triggers.length)}/${count}`);
      state.hit = false;
      const t = Date.now();
      try {
        await this.dispatch(state, cmd);
      } catch (e) {
        throw this.failed(state.no, this.wrap(e, cmd));
      }
      this.done(state.no, t, state.hit);
    }
    state.image.config!.Env = envList(state.env);
    return state;
  }

  private wrap(e: unknown, c: { location: { startLine: number }; name: string }): unknown {
    if (!(e instanceof SkiffError)) return e;
    if (e.message.startsWith(`${this.file}:`)) return e;
    return new SkiffError(e.code, `${this.where(c)}: ${e.message}`, e.exitCode);
  }

  /** A step failed: the progress view hears of it; the error goes on. */
  private failed(no: number, e: unknown): unknown {
    this.o.events?.done(no, false, e instanceof Error ? e.message : String(e));
    return e;
  }

  private n = 0;
  /** A step starts: its number (plain progress: `#N [stage k/n] TEXT`, as BuildKit). */
  private step(text: string, where: string): number {
    if (this.o.signal?.aborted) throw new SkiffError('ERUNTIME', 'build cancelled');
    this.n++;
    if (this.o.events) {
      this.o.events.start(this.n, where, text);
      return this.n;
    }
    this.o.log(this.o.progress === 'plain' ? `#${this.n} [${where}] ${text}` : `STEP ${this.n}/${this.total}: ${text}`);
    return this.n;
  }

  private done(no: number, start: number, cached: boolean): void {
    if (this.o.events) return this.o.events.done(no, cached);
    if (this.o.progress !== 'plain') return;
    this.o.log(cached ? `#${no} CACHED` : `#${no} DONE ${((Date.now() - start) / 1000).toFixed(1)}s`);
  }

  private async base(s: Stage, i: number): Promise<State> {
    const name = this.expandMeta(s.baseName);
    if (s.platform) checkPlatform(this.expandMeta(s.platform));
    const j = this.stageIndex(name);
    if (j !== undefined && j < i) {
      const prev = await this.stage(j);
      return { ...prev, key: baseKey({ stageKey: prev.key }), layers: [...prev.layers], image: structuredClone(prev.image), env: new Map(), args: new Map(), cmdSet: false };
    }
    const named = this.namedContext(name);
    if (named) return this.namedBase(named, s.platform ? this.expandMeta(s.platform) : undefined);
    if (name.toLowerCase() === 'scratch') return scratchState();
    return this.imageBase(name, s.platform ? this.expandMeta(s.platform) : undefined);
  }

  /**
   * A stage based on a named context: its image, or (a directory) one layer holding the directory's
   * files, owned by root as COPY makes them, with no image config (BuildKit's FROM of a local context).
   */
  private async namedBase(n: OpenNamed, platform?: string): Promise<State> {
    if (n.kind === 'image') return n.ref.toLowerCase() === 'scratch' ? scratchState() : this.imageBase(n.ref, platform);
    const state = scratchState();
    const tree = n.ctx.tree;
    const sources = matchSources(tree, '.');
    await this.cachedStep(state, { kind: 'CONTEXT', hash: hashSources(tree, sources) }, null, async (dir) => {
      const diff = path.join(dir, 'diff');
      await fsp.mkdir(diff, { mode: 0o755 });
      await copyInto(new DiffWriter(diff, this.tree(state)), { src: tree, sources, dest: '/', workdir: '/', multi: false, unpack: false });
      return diff;
    });
    return state;
  }

  private async imageBase(name: string, platform: string | undefined): Promise<State> {
    const record = await this.image(name, platform);
    const image = structuredClone(await readImageConfig(record));
    image.config ??= {};
    image.history ??= [];
    const layers: LayerInfo[] = [];
    const { layerMeta } = await import('../store/layers.js');
    // base layers keep their pulled blobs: push and save send them as they are
    for (const l of record.layers) layers.push({ ...l, size: (await layerMeta(l.chainId))?.size ?? 0 });
    return { key: baseKey({ imageId: record.id }), layers, image, env: new Map(), args: new Map(), cmdSet: false, created: image.created ?? record.created };
  }

  /** Images by name and platform, got once per build (stages starting together need the same base once, not one pull each). */
  private readonly images = new Map<string, Promise<ImageRecord>>();

  private image(name: string, platform?: string): Promise<ImageRecord> {
    const key = `${name}\0${platform ?? ''}`;
    let p = this.images.get(key);
    if (!p) {
      p = ensureImage(name, { pull: this.o.pull ? 'always' : 'missing', ...(platform ? { platform } : {}) }, this.o.pullImage).then((r) => r.record);
      this.images.set(key, p);
    }
    return p;
  }

  /** Variables for expansion at this point: ENV, else ARGs in scope. */
  private expansionEnv(state: State): (name: string) => string | undefined {
    return (k) => state.env.get(k) ?? state.args.get(k);
  }

  private tree(state: State): LayeredTree {
    return new LayeredTree(state.layers.map((l) => diffDir(l.chainId)).reverse());
  }

  /**
   * Look up (or make and record) one step's result, and move `state` past it. `step` says what the
   * step does to the state its parent key stands for (the key chains every step before it).
   */
  private async cachedStep(
    state: State,
    step: Record<string, unknown>,
    history: HistoryEntry | null,
    make?: (dir: string) => Promise<string | undefined>,
    /** What a classic --cache-from image's matching step may stand for (image-cache.ts). */
    fromImage: 'trust' | 'verify' | 'no' = 'trust',
  ): Promise<void> {
    // a stage --no-cache-filter names keys its steps afresh, so that the stages built on it miss too
    const key = stepKey(state.key, state.noCache ? { ...step, noCache: crypto.randomUUID() } : step);
    const useCache = !this.o.noCache && !state.noCache;
    let entry: CacheEntry | undefined = useCache ? await readCacheEntry(key) : undefined;
    if (!entry && useCache && this.remote) entry = await this.fromRemote(state, key);
    let verify: ImageCacheHit | undefined;
    if (!entry && useCache && this.imageCache && history && fromImage !== 'no') {
      const hit = this.imageCache.match(state.image.history ?? [], state.layers.map((l) => l.diffId), history.created_by ?? '');
      if (hit && fromImage === 'verify') verify = hit;
      else if (hit) {
        entry = { created: hit.created, ...(hit.layer ? { layer: await withSize(hit.layer) } : {}) };
        await writeCacheEntry(key, entry);
      }
    }
    if (entry && make) {
      this.cached++;
      state.hit = true;
      if (this.o.progress !== 'plain' && !this.o.events) this.o.log('--> Using cache ' + key.slice(7, 19));
    } else if (!entry) {
      this.steps += make ? 1 : 0;
      entry = { created: new Date().toISOString() };
      if (make) {
        await this.ready(state.layers); // the step runs on them
        const dir = await fsp.mkdtemp(path.join(await this.work(), 'step-'));
        const diff = await make(dir);
        if (diff !== undefined) entry.layer = await this.commitDiff(state, diff);
        await fsp.rm(dir, { recursive: true, force: true });
      }
      // a COPY that made what the cache image has: the image's step (its time, its layer's blob)
      if (verify && verify.layer?.diffId === entry.layer?.diffId) {
        entry = { created: verify.created, ...(verify.layer ? { layer: await withSize(verify.layer) } : {}) };
        this.steps--;
        this.cached++;
        state.hit = true;
      }
      await writeCacheEntry(key, entry);
    }
    if (entry.layer) state.layers.push(entry.layer);
    if (this.cacheTo.length && !state.noCache) this.records.push({ key, parent: state.key, created: entry.created, ...(entry.layer ? { layer: entry.layer } : {}), stage: state.stage ?? 0 });
    if (history) (state.image.history ??= []).push({ created: entry.created, created_by: history.created_by, ...(history.comment ? { comment: history.comment } : {}), ...(entry.layer ? {} : { empty_layer: true }) });
    state.key = key;
    state.created = entry.created;
  }

  /** Steps of this build, for --cache-to. */
  private readonly records: StepRecord[] = [];

  /**
   * A step from a --cache-from cache. Undefined when no cache has it or its layer's blob cannot be had
   * (the step then runs). A layer the store lacks is pending: made (and the step's local entry written,
   * after it) only when the build reads it (`ready`); one no step reads and the image lacks never is.
   */
  private async fromRemote(state: State, key: string): Promise<CacheEntry | undefined> {
    const r = this.remote!.lookup(key);
    if (!r) return undefined;
    const entry: CacheEntry = { created: r.created };
    if (r.layer) {
      const parent = state.layers.at(-1)?.chainId ?? null;
      const chainId = chainIdOf(parent, r.layer.diffId);
      const blob = { blobDigest: r.layer.desc.digest, blobSize: r.layer.desc.size };
      const there = this.pending.get(chainId) ? undefined : await layerMeta(chainId);
      if (!there) {
        if (!(await this.remote!.download(r, this.o.log))) return undefined;
        let p = this.pending.get(chainId);
        if (!p) {
          const layer: LayerInfo = { chainId, diffId: r.layer.diffId, size: 0, ...blob };
          const remote = this.remote!;
          p = { layer, entries: [], make: async () => {
            layer.size = await remote.materialize(r, chainId, parent);
          } };
          this.pending.set(chainId, p);
        }
        entry.layer = p.layer; // one object: its size is set when it is made
        p.entries.push([key, entry]);
        return entry;
      }
      entry.layer = { chainId, diffId: r.layer.diffId, size: there.size, ...blob };
    }
    await writeCacheEntry(key, entry);
    return entry;
  }

  /** Layers taken from a --cache-from cache and not made yet (by chain id), with the entries of the steps that took them. */
  private readonly pending = new Map<string, { layer: LayerInfo; make(): Promise<void>; made?: Promise<void>; entries: [string, CacheEntry][] }>();

  /**
   * Make the pending layers among `layers` (at once), then write their steps' local entries (only
   * once every layer asked for is there: an entry never names a layer whose parents are missing).
   */
  private async ready(layers: { chainId: string }[]): Promise<void> {
    if (this.pending.size === 0) return;
    const ps = layers.flatMap((l) => this.pending.get(l.chainId) ?? []);
    await Promise.all(ps.map((p) => (p.made ??= p.make())));
    for (const p of ps) for (const [k, e] of p.entries.splice(0)) await writeCacheEntry(k, e);
  }

  /** --cache-to: each cache gets the steps of the stages its mode keeps (min: the target's FROM chain; max: all). */
  private async exportCaches(target: number): Promise<void> {
    if (!this.cacheTo.length) return;
    const chain = new Set<number>();
    for (let i: number | undefined = target; i !== undefined && !chain.has(i);) {
      chain.add(i);
      const j = this.stageIndex(this.expandMeta(this.df.stages[i]!.baseName));
      i = j !== undefined && j < i ? j : undefined;
    }
    // the layers taken from --cache-from are made first: blobs are packed from layers, entries follow them
    await this.ready(this.records.flatMap((r) => (r.layer ? [r.layer] : [])));
    for (const spec of this.cacheTo) {
      await exportCache(spec, this.records.filter((r) => spec.mode === 'max' || chain.has(r.stage)), this.o.log);
    }
    // layers packed for the export keep their blob in their cache entries (the next export re-uses it)
    for (const r of this.records) if (r.layer?.blobDigest) await writeCacheEntry(r.key, { created: r.created, layer: r.layer as CacheEntry['layer'] & object });
  }

  /** A finished diff dir -> a layer (undefined when it is empty: the step then has no layer). */
  private async commitDiff(state: State, diff: string): Promise<LayerInfo | undefined> {
    if (fs.readdirSync(diff).length === 0) return undefined;
    const diffId = await packedDigest(diff);
    const parent = state.layers.at(-1)?.chainId ?? null;
    const chainId = chainIdOf(parent, diffId);
    const size = duBytes(diff);
    await adoptLayer({ chainId, diffId, parent, size }, diff);
    return { chainId, diffId, size };
  }

  /** Carry out one instruction: `state` is moved past it. */
  private async dispatch(state: State, raw: Command): Promise<void> {
    const cmd = expandCommand(raw, this.expansionEnv(state), this.escape);
    const cfg = (s: State): ContainerConfigFields => (s.image.config ??= {});
    if (isMetadata(cmd)) {
      const flags = { cmdSet: state.cmdSet };
      const createdBy = applyMetadata(cmd, state.image, flags, state.env);
      state.cmdSet = flags.cmdSet;
      return this.cachedStep(state, instructionStep(cmd), { created_by: createdBy });
    }
    switch (cmd.kind) {
      case 'ARG': {
        const set: [string, string][] = [];
        for (const d of cmd.args) {
          const given = this.buildArgs.get(d.name);
          if (given !== undefined) this.usedArgs.add(d.name);
          const v = given ?? d.default ?? this.globalArgs.get(d.name);
          if (v !== undefined) {
            state.args.set(d.name, v);
            set.push([d.name, v]);
          }
        }
        // BuildKit writes no history entry for ARG
        return this.cachedStep(state, { kind: 'ARG', set }, null);
      }
      case 'WORKDIR': {
        const wd = path.posix.resolve(cfg(state).WorkingDir || '/', cmd.path);
        // like BuildKit and Buildah, WORKDIR makes the directory when the image lacks it
        await this.ready(state.layers);
        const root = this.tree(state);
        const rel = root.resolve(relPath(wd));
        const make = root.entry(rel) ? undefined : async (dir: string): Promise<string> => {
          const diff = path.join(dir, 'diff');
          await fsp.mkdir(diff, { mode: 0o755 });
          new DiffWriter(diff, root).ensureDir(rel);
          return diff;
        };
        cfg(state).WorkingDir = wd;
        return this.cachedStep(state, { kind: 'WORKDIR', path: wd }, { created_by: `WORKDIR ${wd}` }, make);
      }
      case 'RUN':
        return this.runInstruction(state, cmd);
      case 'COPY':
      case 'ADD':
        return this.copy(state, cmd);
    }
  }

  private async runInstruction(state: State, cmd: Extract<Command, { kind: 'RUN' }>): Promise<void> {
    const c = state.image.config ?? {};
    let text = cmd.cmd.join(' ');
    // `RUN <<EOF` alone runs the heredoc as the script; otherwise the shell gets the heredocs after the line
    if (cmd.shell && cmd.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z0-9_]+\1$/.test(text.trim())) text = cmd.heredocs[0]!.data;
    else if (cmd.shell && cmd.heredocs.length) text += '\n' + cmd.heredocs.map((h) => `${h.data}${h.data.endsWith('\n') ? '' : '\n'}${h.name}\n`).join('');
    const argv = cmd.shell ? [...shellOf(c), text] : cmd.cmd;
    const env = new Map(state.env);
    for (const [k, v] of state.args) if (!env.has(k)) env.set(k, v);
    for (const [k, v] of this.buildArgs) {
      if (PREDEFINED_ARGS.has(k) && !env.has(k)) {
        env.set(k, v);
        this.usedArgs.add(k);
      }
    }
    if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH.slice(5));
    const networkFlag = cmd.network === 'default' ? (this.o.network ?? 'default') : cmd.network;
    if (!['none', 'host', 'default', 'bridge'].includes(networkFlag)) throw new SkiffError('EINVAL', `network mode "${networkFlag}" not supported: use default, none or host`);
    const network = networkFlag === 'host' || networkFlag === 'none' ? networkFlag : 'default';
    const user = c.User ?? '';
    const workdir = c.WorkingDir || '/';
    // BuildKit's entitlement check: an insecure step needs --allow security.insecure, then runs as `run --privileged`
    const privileged = cmd.security === 'insecure';
    if (privileged && !this.entitlements.has('security.insecure')) throw new SkiffError('EINVAL', 'security.insecure is not allowed (pass --allow security.insecure)');
    if (cmd.devices.length) throw new SkiffError('EINVAL', '--device is not supported by skiff build');
    const mounts = await this.runMounts(cmd.mounts, workdir);
    // the security mode is part of the key (sandbox, the default, by its absence: older keys hold)
    const step = { kind: 'RUN', argv, env: envList(env), user, workdir, network, mounts: mounts.map((m) => m.key), ...(privileged ? { security: 'insecure' } : {}) };
    const createdBy = `RUN ${argv.join(' ')} # buildkit`;
    // created_by shows neither build args nor the files of a bind mount: such a RUN is not taken from an image
    // nor the security mode: an insecure RUN is not taken from an image either
    const fromImage = privileged || [...state.args.keys()].some((k) => !state.env.has(k)) || cmd.mounts.some((m) => m.type === 'bind') ? 'no' : 'trust';
    return this.cachedStep(state, step, { created_by: createdBy }, async (dir) => {
      const points: MountPoint[] = [];
      const closers: (() => Promise<void>)[] = [];
      // secret variables and the agent's address are for this run only: never in the key or the image
      const runEnv = new Map(env);
      for (const m of mounts) for (const [k, v] of m.env ?? []) runEnv.set(k, v);
      const no = state.no!;
      const events = this.o.events;
      const output = events ? new PassThroughLines((t) => events.output(no, Buffer.from(t)), () => undefined)
        : this.o.progress === 'plain' ? prefixLines(this.o.output, `#${state.no} `, Date.now()) : this.o.output;
      const go = () => runStep({
        argv, env: envList(runEnv), user, workdir, network, mounts: points, extraHosts: this.extraHosts, limits: this.limits, privileged,
        layers: state.layers.map((l) => l.chainId), lower: lowerDirs(state.layers.map((l) => l.chainId)),
        root: this.tree(state), dir, output, ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
      const locked = mounts.flatMap((m) => (m.lock ? [m.lock] : []));
      let r: Awaited<ReturnType<typeof go>>;
      try {
        for (const [i, m] of mounts.entries()) {
          const p = await m.prepare(path.join(dir, `mount-${i}`));
          if (p.close) closers.push(p.close);
          if (p.point) points.push(p.point);
        }
        r = await locked.reduceRight<() => ReturnType<typeof go>>((next, name) => () => withLock(name, next), go)();
      } finally {
        if (output !== this.o.output) output.end();
        for (const c of closers) await c();
        // secret copies go with the step, whether it worked or not
        for (const [i, m] of mounts.entries()) if (m.secret) await fsp.rm(path.join(dir, `mount-${i}`), { recursive: true, force: true });
      }
      if (r.code !== 0) {
        throw new SkiffError('ERUNTIME', `process "${argv.join(' ')}" did not complete successfully: exit code: ${r.code}`, 1);
      }
      return r.diff;
    }, fromImage);
  }

  /**
   * RUN --mount: bind (a copy of SOURCE from the context, a stage or an image: writes are
   * discarded, .dockerignore holds), cache (a store directory kept across builds, keyed by id;
   * sharing=locked serialises its users) and tmpfs. Each gives its part of the cache key and a
   * way to make the mount point for one run.
   */
  private async runMounts(specs: MountSpec[], workdir: string): Promise<RunMount[]> {
    const out: RunMount[] = [];
    let sshN = 0;
    for (const m of specs) {
      if (m.type === 'secret' || m.type === 'ssh') {
        const r = m.type === 'secret' ? this.secretMount(m, workdir) : this.sshMount(m, workdir, sshN++);
        if (r) out.push(r);
        continue;
      }
      const target = path.posix.resolve(workdir, m.target);
      const point = (Type: MountPoint['Type'], Source: string, RW: boolean, Mode = ''): MountPoint => ({ Type, Source, Destination: target, Mode, RW, Propagation: '' });
      if (m.type === 'bind') {
        const { tree, key } = await this.sourceTree(m.from);
        // the source is resolved inside its tree (a symlink never leads out of the context or image)
        const name = relPath(m.source);
        const rel = tree.resolve(name);
        const found = tree.entry(rel);
        if (!found || found.st.isSymbolicLink()) throw new SkiffError('EINVAL', `mount source "/${name}" not found`);
        out.push({
          key: { type: 'bind', target, rw: !m.readonly, source: name, content: key ?? hashSources(tree, [{ name, rel }]) },
          prepare: async (dir) => {
            await fsp.mkdir(dir, { mode: 0o755 });
            const isDir = tree.entry(rel)!.st.isDirectory();
            const w = new DiffWriter(dir, new LayeredTree([]));
            w.copyTree(tree, rel, isDir ? '' : 'file', {});
            return { point: point('bind', isDir ? dir : path.join(dir, 'file'), !m.readonly) };
          },
        });
      } else if (m.type === 'cache') {
        const id = m.id || target;
        const hostDir = await cacheMountDir(id, { mode: m.mode ?? 0o755, uid: m.uid ?? 0, gid: m.gid ?? 0 });
        out.push({
          key: { type: 'cache', target, id, ro: m.readonly },
          ...(m.sharing === 'locked' ? { lock: `buildmount-${path.basename(hostDir)}` as const } : {}),
          prepare: async () => ({ point: point('bind', hostDir, !m.readonly) }),
        });
      } else if (m.type === 'tmpfs') {
        out.push({ key: { type: 'tmpfs', target, size: m.sizeLimit }, prepare: async () => ({ point: point('tmpfs', '', true, m.sizeLimit ? `size=${m.sizeLimit}` : '') }) });
      } else {
        throw new SkiffError('EINVAL', `--mount=type=${m.type} is not supported by skiff build`);
      }
    }
    return out;
  }

  /**
   * type=secret: a read-only file (default /run/secrets/ID, mode 0400) and/or a variable (env=).
   * The key names the secret, never its bytes. Undefined when an optional secret was not given.
   */
  private secretMount(m: MountSpec, workdir: string): RunMount | undefined {
    const id = m.id || m.source || path.posix.basename(m.target);
    const bytes = this.secrets.get(id);
    if (bytes === undefined) {
      if (m.required) throw new SkiffError('EINVAL', `secret "${id}" is required but was not given: pass --secret id=${id},src=FILE`, 1);
      return undefined;
    }
    const asFile = !m.env || m.target !== '';
    const target = asFile ? path.posix.resolve(workdir, m.target || `/run/secrets/${id}`) : '';
    return {
      key: { type: 'secret', id, target, env: m.env ?? '', mode: m.mode ?? 0o400, uid: m.uid ?? 0, gid: m.gid ?? 0 },
      secret: true,
      ...(m.env ? { env: [[m.env, bytes.toString()]] as [string, string][] } : {}),
      prepare: async (dir) => {
        if (!asFile) return {};
        await fsp.mkdir(dir, { mode: 0o700 });
        const file = path.join(dir, 'secret');
        await fsp.writeFile(file, bytes, { mode: 0o600 });
        await fsp.chown(file, m.uid ?? 0, m.gid ?? 0);
        await fsp.chmod(file, m.mode ?? 0o400);
        return { point: { Type: 'bind', Source: file, Destination: target, Mode: '', RW: false, Propagation: '' } };
      },
    };
  }

  /** type=ssh: a proxy to the agent's socket (default /run/buildkit/ssh_agent.N, mode 0600); the first sets SSH_AUTH_SOCK. */
  private sshMount(m: MountSpec, workdir: string, n: number): RunMount | undefined {
    const id = m.id || 'default';
    const agent = this.agents.get(id);
    if (agent === undefined) {
      if (m.required) throw new SkiffError('EINVAL', `ssh agent "${id}" is required but was not given: pass --ssh ${id}=SOCKET|KEYFILE (or --ssh default with SSH_AUTH_SOCK set)`, 1);
      return undefined;
    }
    const target = path.posix.resolve(workdir, m.target || `/run/buildkit/ssh_agent.${n}`);
    return {
      key: { type: 'ssh', id, target, mode: m.mode ?? 0o600, uid: m.uid ?? 0, gid: m.gid ?? 0 },
      ...(n === 0 ? { env: [['SSH_AUTH_SOCK', target]] as [string, string][] } : {}),
      prepare: async (dir) => {
        await fsp.mkdir(dir, { mode: 0o711 });
        const sock = path.join(dir, 'agent.sock');
        const { close } = await agentProxy(sock, agent, { mode: m.mode ?? 0o600, uid: m.uid ?? 0, gid: m.gid ?? 0 });
        return { point: { Type: 'bind', Source: sock, Destination: target, Mode: '', RW: true, Propagation: '' }, close };
      },
    };
  }

  /**
   * The tree behind `--from` (a stage, a named context or an image) or the context, and a cache key
   * for a stage or image (a directory's files are keyed by their contents).
   */
  private async sourceTree(from: string, lazy = false): Promise<{ tree: Tree; key?: string; stageLayers?: LayerInfo[] }> {
    if (!from) return { tree: this.ctx.tree };
    const j = this.stageIndex(from);
    if (j !== undefined) {
      const st = await this.stage(j);
      // `lazy`: the caller makes the stage's pending layers before it reads the tree (a cached COPY --from never does)
      if (!lazy) await this.ready(st.layers);
      return { tree: this.tree(st), key: st.key, ...(lazy ? { stageLayers: st.layers } : {}) };
    }
    const named = this.namedContext(from);
    if (named?.kind === 'dir') return { tree: named.ctx.tree };
    if (named) from = named.ref;
    const record = await this.image(from);
    return { tree: new LayeredTree(record.layers.map((l) => diffDir(l.chainId)).reverse()), key: record.id };
  }

  private async copy(state: State, cmd: CopyCommand | AddCommand): Promise<void> {
    if (cmd.kind === 'ADD' && cmd.keepGitDir !== undefined) {
      throw new SkiffError('EINVAL', '--keep-git-dir: skiff build does not clone git repositories (a build fetches no repository): clone it into the context and COPY it');
    }
    const { tree: src, key: srcKey, stageLayers } = await this.sourceTree(cmd.kind === 'COPY' ? cmd.from : '', true);
    // heredocs and downloaded URLs are written to a scratch dir; a COPY of context or stage files
    // needs none (then nothing reads or writes `scratch`: `inline` and `urls` stay empty)
    const needScratch = cmd.heredocs.length > 0 || cmd.sources.some((s) => /^https?:\/\//.test(s));
    const scratch = needScratch ? await fsp.mkdtemp(path.join(await this.work(), 'src-')) : '';
    const inline: string[] = [];
    const urls: string[] = [];
    for (const h of cmd.heredocs) {
      const p = path.join(scratch, relPath(h.path));
      await fsp.mkdir(path.dirname(p), { recursive: true });
      await fsp.writeFile(p, h.data, { mode: 0o644 });
      inline.push(relPath(h.path));
    }
    const local: string[] = [];
    for (const s of cmd.sources) {
      if (/^https?:\/\//.test(s)) {
        if (cmd.kind !== 'ADD') throw new SkiffError('EINVAL', `source can't be a URL for COPY`);
        urls.push(await downloadInto(s, scratch, cmd.kind === 'ADD' ? cmd.checksum : ''));
      } else local.push(s);
    }
    if (cmd.kind === 'ADD' && cmd.checksum && local.length) throw new SkiffError('EINVAL', 'checksum can\'t be specified for non-HTTP(S) sources');
    const parents = cmd.kind === 'COPY' && cmd.parents;
    // a stage's files are keyed by the stage's key: they are matched (and its layers made) only if the step runs
    const deferred = stageLayers !== undefined && !parents;
    if (stageLayers && !deferred) await this.ready(stageLayers);
    const match = (): Source[] => local.flatMap((s) => matchSources(src, s, parents));
    const matched = deferred ? [] : match();
    const sources = deferred ? async (): Promise<Source[]> => {
      await this.ready(stageLayers);
      return match();
    } : async (): Promise<Source[]> => matched;
    const extra = [...inline, ...urls].map((name) => ({ name, rel: name }));
    const extraTree = scratch ? new ContextTree(scratch) : undefined;
    try {
      await this.copyStep(state, cmd, src, srcKey, local, matched, sources, extraTree, extra);
    } finally {
      extraTree?.close();
    }
  }

  private async copyStep(
    state: State, cmd: CopyCommand | AddCommand, src: Tree, srcKey: string | undefined, local: string[], matched: Source[],
    /** The sources the step copies when it runs (`matched`, or a stage's, matched then). */
    sources: () => Promise<Source[]>,
    extraTree: Tree | undefined, extra: Source[],
  ): Promise<void> {
    const c = state.image.config ?? {};
    if (cmd.chown) await this.ready(state.layers);
    const chown = cmd.chown ? parseChown(cmd.chown, this.tree(state)) : undefined;
    let chmod: number | undefined;
    if (cmd.chmod) {
      if (!/^[0-7]{3,4}$/.test(cmd.chmod)) throw new SkiffError('EINVAL', `invalid chmod parameter: ${cmd.chmod}: use an octal mode such as 0755`);
      chmod = parseInt(cmd.chmod, 8);
    }
    const multi = cmd.sources.length + cmd.heredocs.length > 1 || local.some((s) => /[*?[]/.test(s));
    const parents = cmd.kind === 'COPY' && cmd.parents;
    const contentKey = srcKey ? { from: srcKey, sources: local } : { hash: hashSources(src, matched) };
    const step = {
      kind: cmd.kind, ...contentKey, inline: extraTree ? hashSources(extraTree, extra) : '', dest: cmd.dest, workdir: c.WorkingDir ?? '',
      chown: chown ?? null, chmod: chmod ?? null,
      // only when given: the keys of earlier builds stay valid
      ...(parents ? { parents: matched.map((m) => m.keep ?? m.name) } : {}), ...(cmd.excludes.length ? { excludes: cmd.excludes } : {}),
    };
    const exclude = cmd.excludes.length ? new IgnoreMatcher(readIgnorePatterns(cmd.excludes.join('\n'))) : undefined;
    const shown = [...cmd.sources, ...cmd.heredocs.map((h) => h.path)].join(' ');
    return this.cachedStep(state, step, { created_by: `${cmd.kind} ${shown} ${cmd.dest} # buildkit` }, async (dir) => {
      const diff = path.join(dir, 'diff');
      await fsp.mkdir(diff, { mode: 0o755 });
      const w = new DiffWriter(diff, this.tree(state));
      const common = { dest: cmd.dest, workdir: c.WorkingDir ?? '/', multi, ...(chown ? { chown } : {}), ...(chmod !== undefined ? { chmod } : {}) };
      await copyInto(w, { ...common, src, sources: await sources(), unpack: cmd.kind === 'ADD', preserveOwner: srcKey !== undefined, parents, ...(exclude ? { exclude } : {}) });
      if (extraTree) await copyInto(w, { ...common, src: extraTree, sources: extra, unpack: false });
      return diff;
    }, 'verify');
  }

  private async commit(state: State): Promise<BuildResult> {
    await this.ready(state.layers);
    const image = structuredClone(state.image);
    const labels = parseKeyValues(this.o.labels, 'label', false);
    if (labels.size) image.config = { ...image.config, Labels: { ...(image.config?.Labels ?? {}), ...Object.fromEntries(labels) } };
    const config: ImageConfig = {
      created: state.created,
      ...(image.author ? { author: image.author } : {}),
      architecture: image.architecture,
      os: image.os,
      ...(image.variant ? { variant: image.variant } : {}),
      config: image.config ?? {},
      rootfs: { type: 'layers', diff_ids: state.layers.map((l) => l.diffId) },
      history: image.history ?? [],
    };
    const bytes = Buffer.from(JSON.stringify(config));
    const id = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
    if (!fs.existsSync(blobPath(id))) await writeFileAtomic(blobPath(id), bytes, 0o644);
    const tags = this.o.tags.map((t) => canonical(parseReference(t)));
    const rec: ImageRecord = {
      id,
      configMediaType: MT.ociConfig,
      repoDigests: [],
      layers: state.layers.map(({ size: _size, ...l }) => l),
      size: state.layers.reduce((n, l) => n + l.size, 0),
      created: config.created!,
      added: new Date().toISOString(),
    };
    await putImage(rec, tags);
    return { id, tags, steps: this.steps, cached: this.cached, layers: rec.layers.map((l) => l.chainId), stdoutUsed: false };
  }
}

/** BuildKit's entitlements (`--allow`); `device` (optionally `device=NAME`) is accepted, RUN --device being refused anyway. */
type Entitlement = 'security.insecure' | 'network.host' | 'device';

/** `--allow` values → the entitlements granted; an unknown one in BuildKit's words. */
function parseEntitlements(list: string[]): Set<Entitlement> {
  const out = new Set<Entitlement>();
  for (const v of list) {
    const key = v.startsWith('device=') ? 'device' : v;
    if (key !== 'security.insecure' && key !== 'network.host' && key !== 'device') throw new SkiffError('EINVAL', `invalid value "${v}" for --allow: unknown entitlement ${v}`);
    out.add(key);
  }
  return out;
}

/** `--add-host NAME:IP` (or NAME=IP) → an /etc/hosts line. */
function parseAddHost(v: string): string {
  const m = /^([^:=\s]+)[:=](.+)$/.exec(v);
  const ip = m?.[2]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (!m || net.isIP(ip) === 0) throw new SkiffError('EINVAL', `invalid --add-host ${v}: expected HOST:IP`);
  return `${ip}\t${m[1]}`;
}

/** A stream writing each line to `out` as `PREFIX<seconds since start> line` (BuildKit's plain log of a step). */
function prefixLines(out: Writable, prefix: string, start: number): Writable {
  let rest = '';
  const line = (l: string): void => {
    out.write(`${prefix}${((Date.now() - start) / 1000).toFixed(3)} ${l}\n`);
  };
  return new PassThroughLines(
    (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const l of parts) line(l);
    },
    () => {
      if (rest) line(rest);
      rest = '';
    },
  );
}

class PassThroughLines extends Writable {
  constructor(private readonly onText: (s: string) => void, private readonly onEnd: () => void) {
    super({ decodeStrings: true });
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.onText(chunk.toString());
    cb();
  }
  override _final(cb: () => void): void {
    this.onEnd();
    cb();
  }
}

/** After the image is in the store: the outputs, the pushes and the metadata file. */
async function deliver(o: BuildOptions, outputs: Output[], pushes: string[], r: BuildResult): Promise<BuildResult> {
  const stdout = o.stdout ?? process.stdout;
  for (const x of outputs) {
    if (x.type === 'local' || x.type === 'tar') await writeFilesystemOutput(x, r.layers, stdout);
    else if (x.type === 'oci' || x.type === 'docker') await writeArchiveOutput(x, x.name || r.id, stdout);
    else continue;
    if ('dest' in x && x.dest === '-') r.stdoutUsed = true;
    o.log(`exported ${x.type} to ${x.dest === '-' ? 'stdout' : x.dest}`);
  }
  let digest: string | undefined;
  if (pushes.length) {
    const { pushImage } = await import('../image/push.js');
    for (const t of pushes) {
      digest = (await pushImage(t, {})).digest;
      o.log(`pushed ${t}@${digest}`);
    }
  }
  if (o.metadataFile) {
    const meta = {
      'containerimage.config.digest': r.id,
      // the manifest digest when the image was pushed; an image only in the store has its id
      'containerimage.digest': digest ?? r.id,
      ...(r.tags.length ? { 'image.name': r.tags.join(',') } : {}),
    };
    await writeFileAtomic(path.resolve(o.metadataFile), Buffer.from(JSON.stringify(meta, null, 2) + '\n'), 0o644);
  }
  return r;
}

/** One RUN --mount: its part of the step's key, and how to make it for one run. */
interface RunMount {
  key: unknown;
  lock?: `buildmount-${string}`;
  /** A secret's copy: removed as soon as the run ends. */
  secret?: boolean;
  /** Variables for the run only (secret env=, SSH_AUTH_SOCK). */
  env?: [string, string][];
  prepare: (dir: string) => Promise<{ point?: MountPoint; close?: () => Promise<void> }>;
}

/** A layer of the store with its size (as a step's result). */
async function withSize(l: LayerRef): Promise<LayerInfo> {
  const { layerMeta } = await import('../store/layers.js');
  return { ...l, size: (await layerMeta(l.chainId))?.size ?? 0 };
}

/**
 * The images of classic `--cache-from IMAGE`s: from the store, or pulled; one that cannot be had is
 * left out with a warning (the build goes on without it, as BuildKit does with a cache).
 */
async function openImageCache(refs: string[], o: BuildOptions): Promise<ImageCache> {
  const images: { record: ImageRecord; config: ImageConfig }[] = [];
  for (const ref of refs) {
    try {
      const { record } = await ensureImage(ref, { pull: 'missing' }, o.pullImage);
      images.push({ record, config: await readImageConfig(record) });
    } catch (e) {
      o.log(`[Warning] cache ${ref} not used: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return new ImageCache(images);
}

/** A stage on `scratch`: no layers, the host's platform, an empty config. */
function scratchState(): State {
  const host = hostPlatform();
  return {
    key: baseKey({ scratch: true }),
    layers: [],
    image: { architecture: host.arch, os: host.os, ...(host.variant ? { variant: host.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
    env: new Map(),
    args: new Map(),
    cmdSet: false,
    created: new Date(0).toISOString(),
  };
}

/** How progress names a named context: its value as given. */
function namedText(n: OpenNamed): string {
  return n.kind === 'image' ? `docker-image://${n.ref}` : n.ctx.dir;
}

/** skiff builds for the host platform only: anything else is refused up front. */
function checkPlatform(p: string): void {
  const want = parsePlatform(p);
  const host = hostPlatform();
  if (want.os !== host.os || want.arch !== host.arch) {
    throw new SkiffError('EINVAL', `platform ${formatPlatform(want)} is not supported: skiff builds for the host platform ${formatPlatform(host)} only`);
  }
}

/** Bytes of file content under `dir`. */
function duBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += duBytes(p);
    else if (e.isFile()) n += fs.lstatSync(p).size;
  }
  return n;
}

/** `--chown=user[:group]` with names from the image's /etc/passwd and /etc/group; a lone user id is also the group id. */
function parseChown(spec: string, root: LayeredTree): { uid: number; gid: number } {
  const [u = '', g] = spec.split(':', 2);
  const lookup = (file: string, name: string, field: number): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const line = (root.readFile(file) ?? '').split('\n').find((l) => l.split(':')[0] === name);
    if (!line) throw new SkiffError('EINVAL', `unable to convert uid/gid chown string to host mapping: can't find ${file === '/etc/passwd' ? 'uid' : 'gid'} for ${file === '/etc/passwd' ? 'user' : 'group'} ${name}: no such ${file === '/etc/passwd' ? 'user' : 'group'} in ${file}`);
    return Number(line.split(':')[field]);
  };
  const uid = lookup('/etc/passwd', u, 2);
  const gid = g !== undefined && g !== '' ? lookup('/etc/group', g, 2) : uid;
  return { uid, gid };
}

/** ADD URL: fetch into `dir` under the URL's last path element (mode 0600, mtime from Last-Modified). */
async function downloadInto(url: string, dir: string, checksum: string): Promise<string> {
  const { bytes, lastModified } = await download(url);
  const name = path.posix.basename(new URL(url).pathname) || '__unnamed__';
  const file = path.join(dir, name);
  if (checksum) {
    const [algo, want] = checksum.includes(':') ? checksum.split(':', 2) as [string, string] : ['sha256', checksum];
    if (!['sha256', 'sha384', 'sha512'].includes(algo)) throw new SkiffError('EINVAL', `unsupported checksum algorithm "${algo}"`);
    const got = crypto.createHash(algo).update(bytes).digest('hex');
    if (got !== want) throw new SkiffError('EDIGEST', `digest mismatch for ${url}: expected ${algo}:${want}, got ${algo}:${got}`);
  }
  await fsp.writeFile(file, bytes, { mode: 0o600 });
  if (lastModified && !Number.isNaN(Date.parse(lastModified))) await fsp.utimes(file, new Date(lastModified), new Date(lastModified));
  return name;
}
