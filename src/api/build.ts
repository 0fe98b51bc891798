/**
 * `POST /build`: the classic builder's endpoint. The body is the context as a tar (plain or gzip),
 * the query Docker's options (t, dockerfile, buildargs, labels, target, nocache, pull, q, networkmode,
 * platform; extrahosts, ulimits, shmsize: the RUN steps', as the CLI's --add-host, --ulimit, --shm-size),
 * X-Registry-Config the credentials for base images; the reply streams `{"stream": ...}` lines (the
 * build's log and RUN output), pull progress for base images, `{"aux":{"ID": ...}}`, and an error as
 * `{"errorDetail": ...}` once it has begun. The build is the one `skiff build` runs (src/builder/builder.ts)
 * with its context on "stdin"; a client that goes away cancels it.
 */
import { Writable } from 'node:stream';
import type { PullFn } from '../image/progress.js';
import { ApiError, queryBool, queryJson } from './http.js';
import { jsonProgress, registryConfig } from './images.js';
import { storeWork, type Route } from './router.js';

/** A query value holding a JSON object of strings (buildargs, labels) → K=V items; a null value (take it from the environment) is left out. */
function jsonPairs(q: URLSearchParams, key: string): string[] {
  const v = queryJson(q, key);
  if (v === undefined) return [];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, `invalid ${key}: want a JSON object`);
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === null) continue;
    if (typeof x !== 'string') throw new ApiError(400, `invalid ${key}: ${k} is not a string`);
    out.push(`${k}=${x}`);
  }
  return out;
}

/** `ulimits`: a JSON list of {Name, Soft, Hard} (Docker's client sends `null` for none) → the CLI's NAME=SOFT:HARD. */
function ulimitsOf(q: URLSearchParams): string[] {
  const v = queryJson(q, 'ulimits');
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ApiError(400, 'invalid ulimits: want a JSON list');
  return v.map((u: unknown) => {
    const { Name, Soft, Hard } = (u ?? {}) as Record<string, unknown>;
    if (typeof Name !== 'string' || !Number.isInteger(Soft) || !Number.isInteger(Hard)) throw new ApiError(400, `invalid ulimits: ${JSON.stringify(u)}: want {"Name": string, "Soft": integer, "Hard": integer}`);
    return `${Name}=${Soft as number}:${Hard as number}`;
  });
}

/** `shmsize`: bytes; 0 (what Docker's client sends when none was given) is the default. */
function shmSizeOf(q: URLSearchParams): string | undefined {
  const raw = q.get('shmsize');
  if (!raw || raw === '0') return undefined;
  if (!/^\d+$/.test(raw)) throw new ApiError(400, `invalid shmsize: ${raw}`);
  return raw;
}

export const buildRoutes: Route[] = [
  {
    method: 'POST', path: /^\/build$/,
    ns: storeWork,
    handle: async ({ req, res, query }) => {
      if (query.get('remote')) throw new ApiError(400, 'build: a remote context (remote=) is not supported by skiff; send the context as a tar');
      const network = query.get('networkmode');
      const platform = query.get('platform');
      const quiet = queryBool(query, 'q');
      const ulimits = ulimitsOf(query);
      const shmSize = shmSizeOf(query);
      const addHosts = query.getAll('extrahosts').filter((h) => h);
      const progress = jsonProgress(res);
      const stream = (text: string): void => {
        if (!quiet) progress.send({ stream: text });
      };
      const output = new Writable({
        write(chunk: Buffer, _enc, cb) {
          stream(chunk.toString('utf8'));
          cb();
        },
      });
      const credentialsFor = registryConfig(req);
      const pull: PullFn = async (ref, { platform: p }) => {
        const [{ pullImage }, { parseReference }] = await Promise.all([import('../image/pull.js'), import('../oci/reference.js')]);
        const credentials = credentialsFor(parseReference(ref).domain);
        await pullImage(ref, { progress, ...(p ? { platform: p } : {}), ...(credentials ? { credentials } : {}) });
      };
      // a client that goes away cancels the build (Docker's): no step starts after, a running RUN is killed
      const cancel = new AbortController();
      const onClose = (): void => {
        if (!res.writableFinished) cancel.abort();
      };
      res.once('close', onClose);
      const { build } = await import('../builder/builder.js');
      const tags = query.getAll('t').filter((t) => t);
      const r = await build({
        context: '-',
        stdin: () => req,
        ...(query.get('dockerfile') ? { file: query.get('dockerfile')!, fileInContext: true } : {}),
        tags,
        buildArgs: jsonPairs(query, 'buildargs'),
        labels: jsonPairs(query, 'labels'),
        ...(query.get('target') ? { target: query.get('target')! } : {}),
        noCache: queryBool(query, 'nocache'),
        pull: queryBool(query, 'pull'),
        ...(platform ? { platform } : {}),
        ...(network && network !== 'default' ? { network } : {}),
        addHosts,
        ulimits,
        ...(shmSize ? { shmSize } : {}),
        pullImage: pull,
        log: (line) => stream(`${line}\n`),
        output,
        signal: cancel.signal,
      }).finally(() => res.off('close', onClose));
      progress.send({ aux: { ID: r.id } });
      // quiet: the stream is the image id alone (Docker's client prints what the stream held)
      if (quiet) progress.send({ stream: `${r.id}\n` });
      stream(`Successfully built ${r.id.slice(7, 19)}\n`);
      for (const t of tags) stream(`Successfully tagged ${t}\n`);
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end();
    },
  },
];
