/** The Engine API's container endpoints: each calls the domain function the CLI command calls. */
import { createContainer } from '../container/create.js';
import type { PullFn } from '../image/progress.js';
import {
  killContainer, pauseContainer, pruneContainers, removeContainer, renameContainerTo, restartContainer, runCreated, stopContainer,
  unpauseContainer, waitContainerCondition, type WaitCondition,
} from '../container/lifecycle.js';
import { containerChanges, exportContainer } from '../builder/changes.js';
import { resizeTerminal } from '../container/attach.js';
import { updateContainer } from '../container/update.js';
import { containerSummaries, inspectContainer } from '../container/list.js';
import { parseLogTime, parseTail } from '../container/logs.js';
import { topProcesses } from '../container/procs.js';
import { parseSignal } from '../container/signals.js';
import { containerState } from '../container/state.js';
import { SkiffError } from '../errors.js';
import { findContainer } from '../store/containers.js';
import { attachPoint, attachStream, streamLogs, streamType } from './attach.js';
import { archiveRoutes } from './archive.js';
import { createOptionsFromApi, updateOptionsFromApi } from './convert.js';
import { execRoutes } from './exec.js';
import { statsRoutes } from './stats.js';
import { ApiError, noContent, queryBool, queryFilters, queryInt, querySize, readJson, sendJson } from './http.js';
import { removalWork, startWork, storeWork, type Route } from './router.js';

const notModified = (res: Parameters<Route['handle']>[0]['res']): void => noContent(res, 304);

/** `since`/`until` of logs: Unix seconds (0: none). */
function logTime(q: URLSearchParams, key: 'since' | 'until', now: number): bigint | undefined {
  const v = q.get(key);
  if (v === null || v === '' || v === '0') return undefined;
  return parseLogTime(key, v, now);
}

/** The Engine API's create never pulls (clients pull first, as `docker run` does): a missing image is a 404. */
const noPull: PullFn = async (ref) => {
  throw new ApiError(404, `No such image: ${ref}`);
};

const coreRoutes: Route[] = [
  {
    method: 'POST', path: /^\/containers\/create$/,
    handle: async ({ req, res, query }) => {
      const body = await readJson(req);
      const warnings: string[] = []; // a limit the host cannot apply (rootless), as Docker's Warnings
      const rec = await createContainer(createOptionsFromApi(body, query), noPull, { warn: (w) => warnings.push(w) });
      sendJson(res, 201, { Id: rec.Id, Warnings: warnings });
    },
  },
  {
    method: 'GET', path: /^\/containers\/json$/,
    handle: async ({ res, query }) => {
      const limit = queryInt(query, 'limit');
      sendJson(res, 200, await containerSummaries({
        all: queryBool(query, 'all'), filters: queryFilters(query), ...(limit !== undefined && limit > 0 ? { last: limit } : {}),
      }));
    },
  },
  {
    method: 'GET', path: /^\/containers\/([^/]+)\/json$/,
    handle: ({ res, params }) => sendJson(res, 200, inspectContainer(findContainer(params[0]!))),
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/start$/,
    ns: startWork,
    handle: async ({ res, params }) => {
      const rec = findContainer(params[0]!);
      if (containerState(rec).Running) return notModified(res);
      // a --rm container that fails to start is removed (Docker's daemon): `docker run --rm` waits for that
      await runCreated(rec, true, () => undefined);
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/stop$/,
    handle: async ({ res, params, query }) => {
      const rec = findContainer(params[0]!);
      if (!containerState(rec).Running) return notModified(res);
      const sig = query.get('signal');
      if (sig) parseSignal(sig);
      await stopContainer(sig ? { ...rec, Config: { ...rec.Config, StopSignal: sig } } : rec, queryInt(query, 't'));
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/restart$/,
    ns: startWork,
    handle: async ({ res, params, query }) => {
      await restartContainer(findContainer(params[0]!), queryInt(query, 't'));
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/kill$/,
    handle: async ({ res, params, query }) => {
      const rec = findContainer(params[0]!);
      const sig = parseSignal(query.get('signal') || 'KILL');
      if (!containerState(rec).Running) throw new SkiffError('ESTATE', `Cannot kill container: ${params[0]}: container ${rec.Id} is not running`);
      await killContainer(rec, sig);
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/wait$/,
    handle: async ({ res, params, query, closed }) => {
      const rec = findContainer(params[0]!);
      const condition = (query.get('condition') || 'not-running') as WaitCondition;
      if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new ApiError(400, `invalid condition: "${condition}"`);
      // the headers go at once (Docker's): a client knows the wait is in place before it starts the container
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      const code = await waitContainerCondition(rec, condition, closed);
      res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n');
    },
  },
  {
    method: 'DELETE', path: /^\/containers\/([^/]+)$/,
    ns: removalWork,
    handle: async ({ res, params, query }) => {
      await removeContainer(params[0]!, { force: queryBool(query, 'force') });
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/rename$/,
    handle: async ({ res, params, query }) => {
      const name = query.get('name');
      if (!name) throw new ApiError(400, 'rename: a new name is required (?name=)');
      await renameContainerTo(params[0]!, name);
      noContent(res);
    },
  },
  {
    method: 'GET', path: /^\/containers\/([^/]+)\/top$/,
    handle: ({ res, params, query }) => {
      const rec = findContainer(params[0]!);
      const st = containerState(rec);
      if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`);
      const psArgs = (query.get('ps_args') ?? '').split(/\s+/).filter(Boolean);
      sendJson(res, 200, topProcesses(st.Pid, psArgs));
    },
  },
  {
    method: 'GET', path: /^\/containers\/([^/]+)\/logs$/,
    handle: async ({ res, params, query, sink }) => {
      const rec = findContainer(params[0]!);
      const sel = { stdout: queryBool(query, 'stdout'), stderr: queryBool(query, 'stderr'), timestamps: queryBool(query, 'timestamps') };
      if (!sel.stdout && !sel.stderr) throw new ApiError(400, 'Bad parameters: you must choose at least one stream');
      const now = Date.now();
      const since = logTime(query, 'since', now);
      const until = logTime(query, 'until', now);
      const tail = parseTail(query.get('tail') ?? undefined);
      const opts = { follow: queryBool(query, 'follow'), ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
      const entries = streamLogs(rec, opts, sel, sink());
      // errors before the first byte (log driver none) are Docker's JSON errors; the stream starts after
      res.writeHead(200, { 'Content-Type': streamType(rec.Config.Tty) });
      await entries;
      res.end();
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/attach$/,
    handle: async ({ res, req, params, query, sink, hijack }) => {
      const rec = findContainer(params[0]!);
      const sel = { stdout: queryBool(query, 'stdout'), stderr: queryBool(query, 'stderr'), stdin: queryBool(query, 'stdin') };
      if (!queryBool(query, 'stream') && !queryBool(query, 'logs')) throw new ApiError(400, 'attach: stream or logs must be set');
      const at = await attachPoint(rec);
      const h = hijack(streamType(rec.Config.Tty));
      if (h) return attachStream(rec, at, sel, h.sink, h.input);
      res.writeHead(200, { 'Content-Type': streamType(rec.Config.Tty) });
      await attachStream(rec, at, sel, sink(), req);
      res.end();
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/pause$/,
    handle: async ({ res, params }) => {
      await pauseContainer(findContainer(params[0]!));
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/unpause$/,
    handle: async ({ res, params }) => {
      await unpauseContainer(findContainer(params[0]!));
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/containers\/prune$/,
    ns: removalWork,
    handle: async ({ res, query }) => {
      const r = await pruneContainers(queryFilters(query));
      sendJson(res, 200, { ContainersDeleted: r.deleted, SpaceReclaimed: r.reclaimed });
    },
  },
  {
    method: 'GET', path: /^\/containers\/([^/]+)\/changes$/,
    ns: storeWork,
    handle: ({ res, params }) => sendJson(res, 200, containerChanges(params[0]!)),
  },
  {
    method: 'GET', path: /^\/containers\/([^/]+)\/export$/,
    ns: storeWork,
    handle: async ({ res, params }) => {
      await exportContainer(params[0]!, () => {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        return res;
      });
      res.end();
    },
  },
  {
    // a tty container's terminal size (its monitor's pty); accepted and nothing done without one
    method: 'POST', path: /^\/containers\/([^/]+)\/resize$/,
    handle: ({ res, params, query }) => {
      const rec = findContainer(params[0]!);
      const [h, w] = querySize(query);
      if (rec.Config.Tty && h && w) resizeTerminal(rec, h, w);
      noContent(res, 200);
    },
  },
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/update$/,
    handle: async ({ req, res, params }) => {
      const o = updateOptionsFromApi(await readJson(req));
      const warnings: string[] = [];
      await updateContainer(findContainer(params[0]!), o, (w) => warnings.push(w));
      sendJson(res, 200, { Warnings: warnings });
    },
  },
];

export const containerRoutes: Route[] = [...coreRoutes, ...execRoutes, ...archiveRoutes, ...statsRoutes];
