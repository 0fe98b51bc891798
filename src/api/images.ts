/**
 * The Engine API's image endpoints: pull (streamed JSON progress), list, inspect, history, tag,
 * push, remove, prune, save (`get`) and load archives, and `/auth` (credentials checked against the
 * registry, kept by the client). Registry credentials come with each request (X-Registry-Auth).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { historyEntries, imageSummaries, inspectImage, pruneImages, removeImage, tagImage } from '../image/manage.js';
import type { Progress } from '../image/progress.js';
import type { Credentials } from '../registry/credentials.js';
import { obj, str } from './body.js';
import { ApiError, queryBool, queryFilters, readJson, sendJson } from './http.js';
import { storeWork, type Route } from './router.js';

/** `fromImage` + `tag` (a tag or a digest) → one reference. */
export function pullReference(fromImage: string, tag: string | null): string {
  if (!tag) return fromImage;
  return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

/**
 * Progress as Docker's JSON messages, one a line: `{"status","id","progressDetail"}`. The reply's
 * headers go with the first message, so a pull that fails at once is a plain JSON error with its status.
 */
export function jsonProgress(res: ServerResponse): Progress & { send: (m: Record<string, unknown>) => void } {
  const send = (m: Record<string, unknown>): void => {
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify(m) + '\n');
  };
  return {
    send,
    update: (id, status, current, total) =>
      send({ status, progressDetail: current !== undefined ? { current, ...(total !== undefined ? { total } : {}) } : {}, id }),
    line: (text) => send({ status: text }),
    done: () => undefined,
  };
}

/** A header holding base64(url) JSON (X-Registry-Auth, X-Registry-Config); absent or empty: undefined. A malformed one is a 400. */
function base64Json(req: IncomingMessage, name: string): Record<string, unknown> | undefined {
  const h = req.headers[name.toLowerCase()];
  if (typeof h !== 'string' || !h.trim()) return undefined;
  try {
    return obj(JSON.parse(Buffer.from(h.trim(), 'base64').toString('utf8')), name);
  } catch (e) {
    throw e instanceof ApiError ? e : new ApiError(400, `${name}: not base64-encoded JSON`);
  }
}

/** Docker's AuthConfig (username/password, or `auth` = base64 "user:pass") → credentials. */
function authConfig(a: Record<string, unknown>, what: string): Credentials | undefined {
  let username = str(a.username, `${what} username`);
  let password = str(a.password, `${what} password`);
  const auth = str(a.auth, `${what} auth`);
  if (!username && auth) {
    const plain = Buffer.from(auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
  }
  return username && password ? { username, password } : undefined;
}

/** X-Registry-Auth (pull, push): one registry's credentials; absent: the service's own Docker config decides. */
export function registryAuth(req: IncomingMessage): Credentials | undefined {
  const a = base64Json(req, 'X-Registry-Auth');
  return a && authConfig(a, 'X-Registry-Auth');
}

/** X-Registry-Config (build): credentials per registry address, as the client's config has them; looked up by a reference's domain. */
export function registryConfig(req: IncomingMessage): (domain: string) => Credentials | undefined {
  const all = base64Json(req, 'X-Registry-Config') ?? {};
  const byHost = new Map<string, Credentials>();
  for (const [server, a] of Object.entries(all)) {
    const c = authConfig(obj(a, `X-Registry-Config ${server}`), `X-Registry-Config ${server}`);
    const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (c) byHost.set(host === 'index.docker.io' ? 'docker.io' : host, c);
  }
  return (domain) => byHost.get(domain);
}

/**
 * The reply as a Writable for archives: headers (200, `type`) with the first byte, so a failure
 * before it is still a JSON error; a client that leaves fails the write (the writer stops).
 */
function replyWriter(res: ServerResponse, type: string): Writable {
  const head = (): void => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': type });
  };
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (res.destroyed) return cb(new Error('the client went away'));
      head();
      if (res.write(chunk)) return cb();
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        cb(res.destroyed && !res.writableFinished ? new Error('the client went away') : undefined);
      };
      res.once('drain', done).once('close', done);
    },
    final(cb) {
      head();
      res.end(() => cb());
    },
  });
}

export const imageRoutes: Route[] = [
  {
    method: 'POST', path: /^\/images\/create$/,
    ns: storeWork,
    handle: async ({ req, res, query }) => {
      const from = query.get('fromImage');
      if (!from) throw new ApiError(400, 'images/create: only pulls are supported here (fromImage=); use /images/load for archives');
      const ref = pullReference(from, query.get('tag'));
      const { pullImage } = await import('../image/pull.js');
      const credentials = registryAuth(req);
      await pullImage(ref, { progress: jsonProgress(res), ...(credentials ? { credentials } : {}), ...(query.get('platform') ? { platform: query.get('platform')! } : {}) });
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end();
    },
  },
  {
    method: 'GET', path: /^\/images\/json$/,
    handle: async ({ res, query }) => {
      const filterRef = query.get('filter') ?? undefined; // API < 1.41's reference filter
      sendJson(res, 200, await imageSummaries({ filters: queryFilters(query), ...(filterRef ? { filterRef } : {}) }));
    },
  },
  {
    method: 'GET', path: /^\/images\/(.+)\/json$/,
    handle: async ({ res, params }) => sendJson(res, 200, await inspectImage(params[0]!)),
  },
  {
    method: 'GET', path: /^\/images\/get$/,
    ns: storeWork,
    handle: async ({ res, query }) => {
      const { saveImages } = await import('../image/archive.js');
      await saveImages(query.getAll('names'), replyWriter(res, 'application/x-tar'), { format: 'docker-archive' });
    },
  },
  {
    method: 'POST', path: /^\/images\/load$/,
    ns: storeWork,
    handle: async ({ req, res }) => {
      const { loadArchive } = await import('../image/archive.js');
      const { loaded } = await loadArchive(req);
      // `quiet` (Docker's client sets it when its output is no terminal) leaves out progress only: the "Loaded image" lines stay
      const text = loaded.map((l) => JSON.stringify({ stream: `${l}\n` }) + '\n').join('');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    },
  },
  {
    method: 'POST', path: /^\/images\/prune$/,
    ns: storeWork,
    handle: async ({ res, query }) => {
      // Docker's dangling=false filter is prune -a; the rest are the CLI's --filter values
      const filters = queryFilters(query);
      const dangling = filters.filter((f) => f.startsWith('dangling='));
      const all = dangling.some((f) => /^dangling=(false|0)$/i.test(f));
      const r = await pruneImages(all, filters.filter((f) => !dangling.includes(f)));
      sendJson(res, 200, { ImagesDeleted: r.deleted.length ? r.deleted.map((d) => ({ Deleted: d })) : null, SpaceReclaimed: r.reclaimed });
    },
  },
  {
    method: 'POST', path: /^\/auth$/,
    handle: async ({ req, res }) => {
      const body = await readJson(req);
      const { checkLogin, normalizeServer } = await import('../registry/login.js');
      await checkLogin(normalizeServer(str(body.serveraddress, 'serveraddress')), str(body.username, 'username') ?? '', str(body.password, 'password') ?? '');
      sendJson(res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
    },
  },
  {
    method: 'GET', path: /^\/images\/(.+)\/history$/,
    handle: async ({ res, params }) => sendJson(res, 200, (await historyEntries(params[0]!)).map((h) => ({
      Id: h.id, Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0, CreatedBy: h.createdBy, Tags: h.tags?.length ? h.tags : null, Size: h.size, Comment: h.comment,
    }))),
  },
  {
    method: 'GET', path: /^\/images\/(.+)\/get$/,
    ns: storeWork,
    handle: async ({ res, params }) => {
      const { saveImages } = await import('../image/archive.js');
      await saveImages([params[0]!], replyWriter(res, 'application/x-tar'), { format: 'docker-archive' });
    },
  },
  {
    method: 'POST', path: /^\/images\/(.+)\/push$/,
    ns: storeWork,
    handle: async ({ req, res, params, query }) => {
      const tag = query.get('tag') || 'latest';
      const credentials = registryAuth(req);
      const { pushImage } = await import('../image/push.js');
      const progress = jsonProgress(res);
      const r = await pushImage(pullReference(params[0]!, tag), { progress, ...(credentials ? { credentials } : {}) });
      progress.send({ progressDetail: {}, aux: { Tag: tag, Digest: r.digest, Size: r.size } });
      res.end();
    },
  },
  {
    method: 'POST', path: /^\/images\/(.+)\/tag$/,
    handle: async ({ res, params, query }) => {
      const repo = query.get('repo');
      if (!repo) throw new ApiError(400, 'tag: a repository is required (?repo=)');
      await tagImage(params[0]!, pullReference(repo, query.get('tag') || null));
      res.writeHead(201);
      res.end();
    },
  },
  {
    method: 'DELETE', path: /^\/images\/(.+)$/,
    ns: storeWork,
    handle: async ({ res, params, query }) => {
      const r = await removeImage(params[0]!, queryBool(query, 'force'));
      sendJson(res, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
    },
  },
];
