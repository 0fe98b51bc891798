/** `/_ping`, `/version`, `/info`: what clients ask first (API version negotiation) and `docker info`. */
import { engineVersion } from '../lib/version.js';
import { queryFilters, sendJson } from './http.js';
import type { Route } from './router.js';

export const systemRoutes: Route[] = [
  {
    method: 'GET', path: /^\/_ping$/,
    handle: ({ req, res }) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2, 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
    },
  },
  {
    method: 'GET', path: /^\/version$/,
    handle: ({ res }) => sendJson(res, 200, engineVersion()),
  },
  {
    // the store's event log (src/store/events.ts), as `skiff events` reads it: since/until, filters; no until: followed while the client stays
    method: 'GET', path: /^\/events$/,
    handle: async ({ res, query, sink, closed }) => {
      const [{ eventLine, parseEventFilters, streamEvents }, { parseLogTime }] = await Promise.all([import('../store/events.js'), import('../container/logs.js')]);
      const now = Date.now();
      const time = (k: 'since' | 'until'): bigint | undefined => (query.get(k) ? parseLogTime(k, query.get(k)!, now) : undefined);
      const events = streamEvents({ filters: parseEventFilters(queryFilters(query)), since: time('since'), until: time('until'), stop: closed });
      // the headers at once (Docker's): clients (docker stats) wait for them before they go on
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      const out = sink('application/json');
      for await (const m of events) if (!out.write(Buffer.from(eventLine(m)))) await out.drain();
      out.end();
    },
  },
  {
    method: 'GET', path: /^\/info$/,
    handle: async ({ res }) => sendJson(res, 200, await (await import('../system/info.js')).systemInfo()),
  },
];
