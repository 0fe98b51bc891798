/**
 * The Engine API's archive endpoints (what `docker cp` uses), over `skiff cp`'s code (builder/cp.ts:
 * container paths resolved inside the container's root, written only through checked directories):
 * - HEAD `/containers/{id}/archive?path=`: the path's stat, base64 JSON in X-Docker-Container-Path-Stat;
 * - GET: the same header and the path as a tar (the entry named after the path's last component);
 * - PUT: a tar unpacked into the path, which must be a directory (`noOverwriteDirNonDir`, `copyUIDGID`).
 * Rootless they run in skiff's user namespace (the service's userns worker, as `skiff cp`), a running
 * container's root opened by the listener, which owns its user namespace, and handed to a worker of
 * its own as fd 3 (workers.ts).
 */
import { copyFromContainer, copyToContainer, statContainerPath, type CpOptions, type PathStat } from '../builder/cp.js';
import { inUserns } from '../userns/enter.js';
import { ApiError, noContent, queryBool } from './http.js';
import { LIVE_ROOT_ENV, storeWork, type Route } from './router.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathOf(q: URLSearchParams): string {
  const p = q.get('path');
  if (!p) throw new ApiError(400, 'Bad parameter: path cannot be empty');
  return p;
}

/** The running container's root the listener handed this worker as fd 3 (workers.ts), as `skiff cp` gets it. */
function liveRootOf(): Pick<CpOptions, 'liveRoot'> {
  const pid = inUserns() ? Number(process.env[LIVE_ROOT_ENV] ?? '') : 0;
  return pid > 0 ? { liveRoot: { pid, dir: '/proc/self/fd/3' } } : {};
}

async function statOrNotFound(ref: string, p: string, live: Pick<CpOptions, 'liveRoot'>): Promise<PathStat> {
  const st = await statContainerPath(ref, p, live);
  if (!st) throw new ApiError(404, `Could not find the file ${p} in container ${ref}`);
  return st;
}

const statHeader = (st: PathStat): string => Buffer.from(JSON.stringify(st)).toString('base64');

export const archiveRoutes: Route[] = [
  {
    // GET and HEAD (the router sends HEAD here)
    method: 'GET', path: /^\/containers\/([^/]+)\/archive$/,
    ns: storeWork, liveRoot: true,
    handle: async ({ req, res, params, query }) => {
      const p = pathOf(query);
      const live = liveRootOf();
      const st = await statOrNotFound(params[0]!, p, live);
      if (req.method === 'HEAD') {
        res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/json' });
        res.end();
        return;
      }
      res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/x-tar' });
      await copyFromContainer(params[0]!, p, '-', { archive: true, followLink: false, ...live }, res);
      res.end();
    },
  },
  {
    method: 'PUT', path: /^\/containers\/([^/]+)\/archive$/,
    ns: storeWork, liveRoot: true,
    handle: async ({ req, res, params, query }) => {
      const p = pathOf(query);
      // the extraction point, links followed inside the root: it must be a directory
      const live = liveRootOf();
      const st = await statOrNotFound(params[0]!, p.endsWith('/') ? p : `${p}/`, live);
      if (st.mode < 2 ** 31) throw new ApiError(400, 'extraction point is not a directory');
      await copyToContainer('-', params[0]!, p, {
        archive: queryBool(query, 'copyUIDGID'), followLink: false, noOverwriteDirNonDir: queryBool(query, 'noOverwriteDirNonDir'), ...live,
      }, req);
      noContent(res, 200);
    },
  },
];
