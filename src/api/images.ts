/** The Engine API's image endpoints: pull (streamed JSON progress), list, inspect, tag, remove. */
import type { ServerResponse } from 'node:http';
import { imageSummaries, inspectImage, removeImage, tagImage } from '../image/manage.js';
import type { Progress } from '../image/progress.js';
import { ApiError, queryBool, queryFilters, sendJson } from './http.js';
import type { Route } from './router.js';

/** `fromImage` + `tag` (a tag or a digest) → one reference. */
export function pullReference(fromImage: string, tag: string | null): string {
  if (!tag) return fromImage;
  return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

/**
 * Progress as Docker's JSON messages, one a line: `{"status","id","progressDetail"}`. The reply's
 * headers go with the first message, so a pull that fails at once is a plain JSON error with its status.
 */
function jsonProgress(res: ServerResponse): Progress {
  const send = (m: Record<string, unknown>): void => {
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify(m) + '\n');
  };
  return {
    update: (id, status, current, total) =>
      send({ status, progressDetail: current !== undefined ? { current, ...(total !== undefined ? { total } : {}) } : {}, id }),
    line: (text) => send({ status: text }),
    done: () => undefined,
  };
}

export const imageRoutes: Route[] = [
  {
    method: 'POST', path: /^\/images\/create$/,
    handle: async ({ res, query }) => {
      const from = query.get('fromImage');
      if (!from) throw new ApiError(400, 'images/create: only pulls are supported here (fromImage=); use /images/load for archives');
      const ref = pullReference(from, query.get('tag'));
      const { pullImage } = await import('../image/pull.js');
      await pullImage(ref, { progress: jsonProgress(res), ...(query.get('platform') ? { platform: query.get('platform')! } : {}) });
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
    handle: async ({ res, params, query }) => {
      const r = await removeImage(params[0]!, queryBool(query, 'force'));
      sendJson(res, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
    },
  },
];
