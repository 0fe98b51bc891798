/**
 * The routing table of the Engine API: `/v1.NN/...` and unversioned paths alike, one entry per
 * endpoint (method, path pattern, handler). A handler gets the request, the reply, the pattern's
 * captures (URL-decoded), the query, and ways to stream: a Sink over the reply, or the hijacked
 * connection (101 UPGRADED) when the client asked for an upgrade.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Sink } from './attach.js';
import { ApiError, sendError } from './http.js';

/** The API version skiff answers with (lib/version.ts): Docker 20.10's, which Docker 20.10–28 clients accept and negotiate down to. */
import { MIN_API_VERSION } from '../lib/version.js';
export { API_VERSION, MIN_API_VERSION } from '../lib/version.js';

export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  /** true once the client went away */
  closed: () => boolean;
  /** the reply as a stream (headers with `contentType` at the first byte) */
  sink: (contentType?: string) => Sink;
  /** take over the connection (101 UPGRADED) when the client asked for it; undefined otherwise */
  hijack: (contentType: string) => { sink: Sink; input: NodeJS.ReadableStream } | undefined;
}

/**
 * Rootless, where a request's work runs (workers.ts): the listener is outside any namespace, as the
 * CLI; `userns` is skiff's user namespace (store work: what the CLI's `userns` commands do), `netns`
 * the rootless network namespace (what its `netns` commands do: starts on user-defined networks).
 */
export type Worker = 'userns' | 'netns';

/** Set for a worker that got a running container's root as fd 3 (workers.ts): that container's pid. */
export const LIVE_ROOT_ENV = '_SKIFF_API_LIVE_ROOT';

export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD';
  path: RegExp;
  handle: (ctx: Context) => Promise<void> | void;
  /** Rootless: the worker that runs this request (by the pattern's captures); none: the listener itself. */
  ns?: (params: string[]) => Worker | undefined | Promise<Worker | undefined>;
  /** Rootless, with `ns`: the running container params[0]'s root is opened by the listener and handed to the worker (as `skiff cp` does). */
  liveRoot?: boolean;
}

/** Store work (layers, images, volumes of subordinate ids): skiff's user namespace, as the CLI's `userns` commands. */
export const storeWork = (): Worker => 'userns';

/** Removals (rm, prunes): in the rootless network namespace while it runs (user-network teardown there), as the CLI's `rm`. */
export const removalWork = async (): Promise<Worker> => ((await import('../network/rootless-netns.js')).netnsRunning() ? 'netns' : 'userns');

/** A start of container params[0]: in the rootless network namespace when it is on a user-defined network, as `skiff start`. */
export const startWork = async (params: string[]): Promise<Worker | undefined> =>
  ((await (await import('../network/rootless-netns.js')).onUserNetworks([params[0]!])) ? 'netns' : undefined);

const VERSIONED = /^\/v(\d+)\.(\d+)(\/.*)$/;

/** Split `/v1.41/containers/json?all=1` into the unversioned path and the query; versions below the minimum are refused. */
export function parseTarget(url: string): { path: string; query: URLSearchParams } {
  const u = new URL(url, 'http://skiff');
  let p = u.pathname;
  const m = VERSIONED.exec(p);
  if (m) {
    const [maj, min] = [Number(m[1]), Number(m[2])];
    if (maj < 1 || (maj === 1 && min < 24)) {
      throw new ApiError(400, `client version ${maj}.${min} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
    }
    p = m[3]!;
  }
  return { path: p.length > 1 ? p.replace(/\/+$/, '') : p, query: u.searchParams };
}

/** The route for a method and path (HEAD finds GET's), with its captures; 404/405 as ApiError. */
export function match(routes: Route[], method: string, p: string): { route: Route; params: string[] } {
  let pathKnown = false;
  for (const route of routes) {
    const m = route.path.exec(p);
    if (!m) continue;
    pathKnown = true;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
      let params: string[];
      try {
        params = m.slice(1).map((x) => decodeURIComponent(x ?? ''));
      } catch {
        throw new ApiError(400, `malformed path: ${p}`);
      }
      return { route, params };
    }
  }
  throw pathKnown ? new ApiError(405, `method ${method} not allowed on ${p}`) : new ApiError(404, `page not found`);
}

/** Run a route; any failure becomes Docker's JSON error (or ends a stream already under way). */
export async function dispatch(route: Route, ctx: Context): Promise<void> {
  try {
    await route.handle(ctx);
  } catch (e) {
    sendError(ctx.res, e);
  }
}

export type { Socket };
