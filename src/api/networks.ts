/**
 * The Engine API's network endpoints: list, inspect, create, remove, prune, connect, disconnect,
 * over the functions `skiff network ...` calls (src/network/manage.ts, store.ts; container/network.ts
 * for connect/disconnect). Rootless, connect and disconnect on a user-defined network run in the
 * rootless network namespace (the service's netns worker, workers.ts), as `skiff network connect`.
 */
import { SkiffError } from '../errors.js';
import { bool, obj, str, strList, strMap } from './body.js';
import { ApiError, noContent, queryFilters, readJson, sendJson } from './http.js';
import type { Route, Worker } from './router.js';

const manage = (): Promise<typeof import('../network/manage.js')> => import('../network/manage.js');
/** Rootless: a user-defined network's connect/disconnect is done inside the rootless network namespace. */
const userNetworkWork = async (params: string[]): Promise<Worker | undefined> =>
  ((await import('../network/rootless-netns.js')).namesUserNetwork([params[0]!]) ? 'netns' : undefined);
const sweep = async (): Promise<void> => (await import('../network/backends.js')).sweepNetworks();

export const networkRoutes: Route[] = [
  {
    method: 'GET', path: /^\/networks$/,
    handle: async ({ res, query }) => {
      const { allNetworks, filterNetworks, inspectNetwork } = await manage();
      await sweep();
      sendJson(res, 200, filterNetworks(await allNetworks(), queryFilters(query)).map(inspectNetwork));
    },
  },
  {
    method: 'POST', path: /^\/networks\/create$/,
    handle: async ({ req, res }) => {
      const body = await readJson(req);
      const name = str(body.Name, 'Name');
      if (!name) throw new ApiError(400, 'network name is required (Name)');
      if (bool(body.EnableIPv6, 'EnableIPv6')) throw new SkiffError('EINVAL', 'IPv6 networks are not supported by skiff');
      const ipam = obj(body.IPAM, 'IPAM');
      const configs = ipam.Config === undefined || ipam.Config === null ? [] : ipam.Config;
      if (!Array.isArray(configs)) throw new ApiError(400, 'IPAM.Config: want a list');
      if (configs.length > 1) throw new SkiffError('EINVAL', 'IPAM.Config: one subnet only (skiff networks have one IPv4 subnet)');
      const c = obj(configs[0], 'IPAM.Config[0]');
      const [subnet, gateway, ipRange] = [str(c.Subnet, 'Subnet'), str(c.Gateway, 'Gateway'), str(c.IPRange, 'IPRange')];
      const { createNetwork } = await import('../network/store.js');
      await sweep();
      const rec = await createNetwork({
        name,
        driver: str(body.Driver, 'Driver') ?? 'bridge',
        ...(subnet !== undefined ? { subnet } : {}),
        ...(gateway !== undefined ? { gateway } : {}),
        ...(ipRange !== undefined ? { ipRange } : {}),
        internal: bool(body.Internal, 'Internal'),
        labels: strMap(body.Labels, 'Labels'),
        options: strMap(body.Options, 'Options'),
      });
      sendJson(res, 201, { Id: rec.Id, Warning: '' });
    },
  },
  {
    method: 'POST', path: /^\/networks\/prune$/,
    handle: async ({ res, query }) => {
      const { pruneNetworks } = await manage();
      await sweep();
      sendJson(res, 200, { NetworksDeleted: await pruneNetworks(queryFilters(query)) });
    },
  },
  {
    method: 'GET', path: /^\/networks\/([^/]+)$/,
    handle: async ({ res, params }) => {
      const { findView, inspectNetwork } = await manage();
      sendJson(res, 200, inspectNetwork(findView(params[0]!)));
    },
  },
  {
    method: 'DELETE', path: /^\/networks\/([^/]+)$/,
    handle: async ({ res, params }) => {
      const { removeNetwork } = await manage();
      await sweep();
      await removeNetwork(params[0]!);
      noContent(res);
    },
  },
  {
    method: 'POST', path: /^\/networks\/([^/]+)\/connect$/,
    ns: userNetworkWork,
    handle: async ({ req, res, params }) => {
      const body = await readJson(req);
      const container = str(body.Container, 'Container');
      if (!container) throw new ApiError(400, 'a container is required (Container)');
      const ep = obj(body.EndpointConfig, 'EndpointConfig');
      const ip = str(obj(ep.IPAMConfig, 'EndpointConfig.IPAMConfig').IPv4Address, 'IPv4Address');
      const { connectNetwork } = await import('../container/network.js');
      await sweep();
      await connectNetwork(params[0]!, container, { aliases: strList(ep.Aliases, 'EndpointConfig.Aliases'), ...(ip !== undefined ? { ip } : {}) });
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
    },
  },
  {
    method: 'POST', path: /^\/networks\/([^/]+)\/disconnect$/,
    ns: userNetworkWork,
    handle: async ({ req, res, params }) => {
      const body = await readJson(req);
      const container = str(body.Container, 'Container');
      if (!container) throw new ApiError(400, 'a container is required (Container)');
      bool(body.Force, 'Force');
      const { disconnectNetwork } = await import('../container/network.js');
      await sweep();
      await disconnectNetwork(params[0]!, container);
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
    },
  },
];
