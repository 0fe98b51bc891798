/**
 * Build steps and the network, as Docker's: a RUN step gets the default network (a bridge rootful,
 * pasta rootless) and reaches a server the test runs on the host (the bridge gateway rootful, the
 * host's loopback through pasta's gateway mapping rootless: the step's default gateway); `RUN --network=none` and
 * `build --network none` have no route. After the build no lease, link or process of the step is
 * left. Traffic goes only to loopback and the test's own bridge gateway.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRootless, processes, storeCli, storeWithImage, type TempStore, until } from '../helpers/fixtures.js';
import { hostLinks, hostServer } from '../helpers/netns.js';

describe('build RUN networking', () => {
  let store: TempStore;
  let image: string;
  let ctx: string;
  const { sk: run, ok } = storeCli(() => store);

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    store.env.SKIFF_ADDRESS_POOLS = '10.219.0.0/16/24';
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-net-build-'));
  });
  after(async () => {
    fs.rmSync(ctx, { recursive: true, force: true });
    await store.cleanup();
  });

  /** The host address a step reaches the test's server at, and where that server listens. */
  async function hostSide(): Promise<{ listen: string; addr: string; bridge: string; keeper: string }> {
    if (isRootless()) return { listen: '127.0.0.1', addr: '', bridge: '', keeper: '' }; // the step uses its default gateway (pasta: the host's loopback)
    // the bridge (and its gateway address) exists while a container uses it: one keeps it for the test
    const keeper = (await ok(['run', '-d', '--name', 'keeper', image, 'sleep', '120'])).trim();
    const rec = JSON.parse(await ok(['network', 'inspect', 'bridge']))[0];
    const gw = rec.IPAM.Config[0].Gateway as string;
    const bridge = `skiff-${(rec.Id as string).slice(0, 9)}`;
    assert.deepEqual(hostLinks([bridge]), [bridge]);
    // while the keeper runs, its veth is the bridge's only port: the steps' are gone with them
    const ports = (): string[] => fs.readdirSync(`/sys/class/net/${bridge}/brif`);
    portsOf = ports;
    return { listen: gw, addr: gw, bridge, keeper };
  }
  let portsOf: () => string[] = () => [];

  /** The store's leases, its bridge and what is attached to it (the steps' and the keeper's veths), its processes. */
  function leftovers(bridge: string, keeper: string): { leases: string[]; links: string[]; procs: string[] } {
    const leaseDir = path.join(store.root, 'networks', 'leases');
    const leases = fs.existsSync(leaseDir) ? fs.readdirSync(leaseDir) : [];
    const links = bridge ? hostLinks([bridge, `sk${keeper.slice(0, 12)}0`]) : [];
    return { leases, links, procs: processes((c) => (c.includes('pasta') || c.includes('skiff-shim')) && c.includes(store.root)) };
  }

  test('RUN reaches a server on the host by default; RUN --network=none and build --network none have no route', async () => {
    const side = await hostSide();
    const srv = await hostServer(side.listen, 'from-the-host');
    try {
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
        `FROM ${image}`,
        'ARG ADDR',
        'ARG PORT',
        'RUN gw=${ADDR:-$(ip route | awk \'/^default/{print $3}\')} && wget -qO- http://$gw:$PORT/ > /got',
        'RUN --network=none ip route > /none-routes',
        '',
      ].join('\n'));
      await ok(['build', '-q', '--no-cache', '--build-arg', `ADDR=${side.addr}`, '--build-arg', `PORT=${srv.port}`, '-t', 'netbuild:1', ctx]);
      assert.equal(srv.hits(), 1);
      assert.equal(await ok(['run', '--rm', '--network', 'none', 'netbuild:1', 'cat', '/got']), 'from-the-host');
      assert.equal(await ok(['run', '--rm', '--network', 'none', 'netbuild:1', 'cat', '/none-routes']), '', 'a --network=none step has no route');
      // the whole build without a network: the same step fails, and the server sees nothing
      const r = await run(['build', '-q', '--no-cache', '--network', 'none', '--build-arg', `ADDR=${side.addr || '127.0.0.2'}`, '--build-arg', `PORT=${srv.port}`, '-t', 'netbuild:2', ctx]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /did not complete successfully|returned a non-zero code/);
      assert.equal(srv.hits(), 1);
      if (side.keeper) assert.deepEqual(portsOf(), [`sk${side.keeper.slice(0, 12)}0`]);
    } finally {
      await srv.close();
    }
    if (!isRootless()) await ok(['rm', '-f', 'keeper']);
    // each `network ls` sweeps what is stale; nothing of the steps is left
    const nothing = { leases: [], links: [], procs: [] };
    await until('nothing left', async () => {
      await ok(['network', 'ls']);
      return JSON.stringify(leftovers(side.bridge, side.keeper)) === JSON.stringify(nothing) || undefined;
    }, 15_000).catch(() => undefined);
    assert.deepEqual(leftovers(side.bridge, side.keeper), nothing);
  });
});
