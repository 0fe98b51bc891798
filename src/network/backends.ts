/**
 * The network backend of this store: rootful bridge networks (bridge.ts), rootless pasta (pasta.ts)
 * on the default network and, inside the rootless network namespace (rootless-netns.ts), the bridge
 * backend for user-defined networks.
 */
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import type { NetworkBackend } from './backend.js';
import { defaultGateway } from './routes.js';

export async function backendFor(rootless = paths().rootless): Promise<NetworkBackend> {
  if (!rootless) return (await import('./bridge.js')).bridgeBackend;
  const [{ pastaBackend }, { bridgeBackend }, { inNetns, forwardSocket }] = await Promise.all([import('./pasta.js'), import('./bridge.js'), import('./rootless-netns.js')]);
  return {
    name: 'pasta',
    prepare: async (req) => {
      const user = req.networks.filter((a) => !a.network.Default).length;
      if (!user) return pastaBackend.prepare(req);
      if (user < req.networks.length) {
        throw new SkiffError('EINVAL', 'rootless containers cannot join the default network (pasta) and user-defined networks at once: choose one or the other');
      }
      // the CLI (and the Engine API's service, through its netns worker) runs itself again in the
      // namespace first (rootless-netns.ts): a caller that did not is a bug
      if (!inNetns()) {
        throw new SkiffError('EINTERNAL', 'rootless: a container on a user-defined network starts only inside the rootless network namespace: start it with `skiff start`');
      }
      const prepared = await bridgeBackend.prepare(req);
      // host-gateway: the host, not the namespace. The namespace's pasta maps its gateway (a copy of the
      // host's) to the host's loopback, where every published port listens (a pasta each, also those of
      // containers on the default network) and where a server on the host does; pasta.ts does the same
      prepared.hostGateway = defaultGateway() ?? '';
      // the host ports: a pasta of the holder's, in the host's network namespace (rootless-netns.ts)
      if (prepared.plan.ports.length) prepared.plan.forward = { socket: forwardSocket() };
      return prepared;
    },
    setup: (p, target) => (p.plan.pasta ? pastaBackend : bridgeBackend).setup(p, target),
    // user-network leases are the bridge backend's (the shim's teardown runs inside the namespace: shim.ts)
    teardown: (id, networks) => bridgeBackend.teardown(id, networks),
    // skiff's own user namespace (rootless store work) cannot reach the rootless network namespace
    // while it runs: a later command sweeps
    sweep: async (live, opts) => (process.env._SKIFF_IN_USERNS === '1' && !inNetns() && (await import('./rootless-netns.js')).netnsRunning() ? [] : bridgeBackend.sweep(live, opts)),
  };
}

/** What the network commands (and the Engine API's network endpoints) do first: containers whose holder died leave addresses, links and DNS entries; cleaned (cheap when there are none). */
export async function sweepNetworks(): Promise<void> {
  await (await backendFor()).sweep();
}
