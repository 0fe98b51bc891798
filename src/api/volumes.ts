/**
 * The Engine API's volume endpoints: list (`{Volumes, Warnings}`), inspect, create, remove, prune,
 * over the functions `skiff volume ...` calls (src/volume/volumes.ts).
 */
import type { IncomingMessage } from 'node:http';
import { containerState } from '../container/state.js';
import { createVolume, filterVolumes, findVolume, parseVolumeOptions, pruneVolumes, removeVolume } from '../volume/volumes.js';
import { str, strMap } from './body.js';
import { noContent, queryBool, queryFilters, readJson, sendJson } from './http.js';
import { storeWork, type Route } from './router.js';

/** API versions before 1.42 prune every unused volume; later ones only anonymous ones unless `all=true` (Docker's rule). */
function prunesAll(req: IncomingMessage): boolean {
  const m = /^\/v1\.(\d+)\//.exec(req.url ?? '');
  return m !== null && Number(m[1]) < 42;
}

export const volumeRoutes: Route[] = [
  {
    method: 'GET', path: /^\/volumes$/,
    handle: ({ res, query }) => sendJson(res, 200, { Volumes: filterVolumes(queryFilters(query)), Warnings: [] }),
  },
  {
    method: 'POST', path: /^\/volumes\/create$/,
    handle: async ({ req, res }) => {
      const body = await readJson(req);
      const opts = Object.entries(strMap(body.DriverOpts, 'DriverOpts')).map(([k, v]) => `${k}=${v}`);
      const r = await createVolume(str(body.Name, 'Name'), {
        driver: str(body.Driver, 'Driver') ?? 'local', labels: strMap(body.Labels, 'Labels'), options: parseVolumeOptions(opts),
      });
      sendJson(res, 201, findVolume(r.name));
    },
  },
  {
    method: 'POST', path: /^\/volumes\/prune$/,
    ns: storeWork,
    handle: async ({ req, res, query }) => {
      const r = await pruneVolumes(prunesAll(req), queryFilters(query));
      sendJson(res, 200, { VolumesDeleted: r.deleted, SpaceReclaimed: r.reclaimed });
    },
  },
  {
    method: 'GET', path: /^\/volumes\/([^/]+)$/,
    handle: ({ res, params }) => sendJson(res, 200, findVolume(params[0]!)),
  },
  {
    method: 'DELETE', path: /^\/volumes\/([^/]+)$/,
    ns: storeWork,
    handle: async ({ res, params, query }) => {
      await removeVolume(params[0]!, queryBool(query, 'force'), (c) => containerState(c).Running);
      noContent(res);
    },
  },
];
