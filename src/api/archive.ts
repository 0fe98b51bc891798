/**
 * The Engine API's archive endpoints (what `docker cp` uses), over `skiff cp`'s code (builder/cp.ts:
 * container paths resolved inside the container's root, written only through checked directories):
 * - HEAD `/containers/{id}/archive?path=`: the path's stat, base64 JSON in X-Docker-Container-Path-Stat;
 * - GET: the same header and the path as a tar (the entry named after the path's last component);
 * - PUT: a tar unpacked into the path, which must be a directory (`noOverwriteDirNonDir`, `copyUIDGID`).
 */
import { copyFromContainer, copyToContainer, statContainerPath, type PathStat } from '../builder/cp.js';
import { containerState } from '../container/state.js';
import { findContainer } from '../store/containers.js';
import { checkEnterable } from './exec.js';
import { ApiError, noContent, queryBool } from './http.js';
import type { Route } from './router.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathOf(q: URLSearchParams): string {
  const p = q.get('path');
  if (!p) throw new ApiError(400, 'Bad parameter: path cannot be empty');
  return p;
}

async function statOrNotFound(ref: string, p: string): Promise<PathStat> {
  const rec = findContainer(ref);
  const { Running, Pid } = containerState(rec);
  if (Running && Pid) checkEnterable(rec, Pid);
  const st = await statContainerPath(ref, p);
  if (!st) throw new ApiError(404, `Could not find the file ${p} in container ${ref}`);
  return st;
}

const statHeader = (st: PathStat): string => Buffer.from(JSON.stringify(st)).toString('base64');

export const archiveRoutes: Route[] = [
  {
    // GET and HEAD (the router sends HEAD here)
    method: 'GET', path: /^\/containers\/([^/]+)\/archive$/,
    handle: async ({ req, res, params, query }) => {
      const p = pathOf(query);
      const st = await statOrNotFound(params[0]!, p);
      if (req.method === 'HEAD') {
        res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/json' });
        res.end();
        return;
      }
      res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/x-tar' });
      await copyFromContainer(params[0]!, p, '-', { archive: true, followLink: false }, res);
      res.end();
    },
  },
  {
    method: 'PUT', path: /^\/containers\/([^/]+)\/archive$/,
    handle: async ({ req, res, params, query }) => {
      const p = pathOf(query);
      // the extraction point, links followed inside the root: it must be a directory
      const st = await statOrNotFound(params[0]!, p.endsWith('/') ? p : `${p}/`);
      if (st.mode < 2 ** 31) throw new ApiError(400, 'extraction point is not a directory');
      await copyToContainer('-', params[0]!, p, {
        archive: queryBool(query, 'copyUIDGID'), followLink: false, noOverwriteDirNonDir: queryBool(query, 'noOverwriteDirNonDir'),
      }, req);
      noContent(res, 200);
    },
  },
];
