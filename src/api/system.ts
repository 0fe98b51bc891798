/** `/_ping`, `/version`, `/info`: what clients ask first (API version negotiation) and `docker info`. */
import os from 'node:os';
import { goArch, skiffVersion } from '../lib/version.js';
import { systemInfo } from '../system/info.js';
import { sendJson } from './http.js';
import { API_VERSION, MIN_API_VERSION, type Route } from './router.js';

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
    handle: ({ res }) => {
      const v = skiffVersion();
      sendJson(res, 200, {
        Platform: { Name: 'skiff' },
        Components: [{ Name: 'Engine', Version: v, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: os.release() } }],
        Version: v, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: `node${process.version}`,
        Os: 'linux', Arch: goArch(), KernelVersion: os.release(), BuildTime: '',
      });
    },
  },
  {
    method: 'GET', path: /^\/info$/,
    handle: async ({ res }) => sendJson(res, 200, await systemInfo()),
  },
];
