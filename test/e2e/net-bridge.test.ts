/**
 * The rootful network backend in isolation, against the real kernel: namespaces made here (as a
 * container's), set up by src/network (bridge backend → `skiff-shim net`: netlink, nf_tables,
 * aardvark-dns), busybox httpd inside, fetched from the host through published ports. After each
 * test: no link, table, process or lease of the test's is left. Traffic goes only to loopback and
 * to the addresses of the networks made here (10.215.0.0/16, 10.216.0.0/16).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { configure } from '../../src/config.js';
import { native } from '../../src/native.js';
import { bridgeBackend } from '../../src/network/bridge.js';
import { holderOf, leasesOf, type Holder } from '../../src/network/ipam.js';
import { bridgePlan, hostIfName, portsTableName, retiredName } from '../../src/network/plan.js';
import { forwardsOf, parsePublish } from '../../src/network/ports.js';
import { createNetwork, defaultNetwork, listNetworks, type NetworkRecord } from '../../src/network/store.js';
import { shimSetup, shimTeardown, type SetupHandle } from '../../src/network/shim.js';
import { networkDownFile } from '../../src/store/layout.js';
import { isRootless, processes, until } from '../helpers/fixtures.js';
import { curlIn, fetchText, hostLinks, hostServer, hostTables, httpdIn, makeNetns, portFree, type Netns } from '../helpers/netns.js';

const skip = isRootless() && 'bridges, veths and nf_tables need root (the rootless backend is pasta: net-pasta.test.ts)';

describe('bridge networks (rootful)', { skip }, () => {
  let base: string;
  const open: { ns: Netns; handle?: SetupHandle }[] = [];
  const ids: string[] = [];
  let n = 0;

  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-net-e2e-'));
    configure({ root: path.join(base, 'root'), runroot: path.join(base, 'run') });
    process.env.SKIFF_SUBNET_CLAIMS = path.join(base, 'claims');
    process.env.SKIFF_ADDRESS_POOLS = '10.215.0.0/16/24';
  });

  /** Names of the host the test's networks and containers may leave. */
  function ourNames(): { links: string[]; tables: string[] } {
    const nets = listNetworks();
    return {
      links: [...nets.map((x) => x.Bridge), ...ids.flatMap((id) => [0, 1, 2].flatMap((i) => [hostIfName(id, i), retiredName(hostIfName(id, i))]))],
      tables: [...nets.map((x) => x.Table), ...ids.map(portsTableName)],
    };
  }
  const ourProcesses = (): string[] => processes((c) => c.includes(base));

  async function leftovers(): Promise<void> {
    // veths of ended namespaces go asynchronously in the kernel: poll for it
    const names = ourNames();
    await until('links of the test to go', () => hostLinks(names.links).length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(hostLinks(names.links), [], 'links left');
    assert.deepEqual(hostTables(names.tables), [], 'nf_tables tables left');
    assert.deepEqual(ourProcesses(), [], 'processes left');
    for (const x of listNetworks()) assert.deepEqual(leasesOf(x.Name), [], `leases left on ${x.Name}`);
  }

  /** A "container": a namespace attached to `networks` (the first gets the ports). */
  async function container(networks: NetworkRecord[], publish: string[] = [], opts: { aliases?: string[]; holder?: Holder } = {}) {
    const ns = await makeNetns();
    const id = `${(++n).toString(16).padStart(4, '0')}${'e2e0'.repeat(15)}`;
    ids.push(id);
    const entry: { ns: Netns; handle?: SetupHandle } = { ns };
    open.push(entry);
    const prepared = await bridgeBackend.prepare({
      containerId: id,
      name: `c${n}`,
      networks: networks.map((network) => ({ network, aliases: opts.aliases ?? [] })),
      forwards: forwardsOf(parsePublish(publish).bindings),
      holder: opts.holder ?? holderOf(),
    });
    entry.handle = await bridgeBackend.setup(prepared, ns.pid);
    return { id, ns, prepared, status: entry.handle.status, handle: entry.handle };
  }

  async function closeAll(): Promise<void> {
    for (const e of open.splice(0)) {
      await e.handle?.release();
      await e.ns.close();
    }
    for (const id of ids) await bridgeBackend.teardown(id);
  }

  after(async () => {
    await closeAll();
    delete process.env.SKIFF_ADDRESS_POOLS;
    delete process.env.SKIFF_SUBNET_CLAIMS;
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('default network: the address and route inside, host and container reach each other, teardown leaves nothing', async () => {
    const d = await defaultNetwork();
    const c = await container([d]);
    const gw = d.IPAM.Config[0]!.Gateway;
    const ip = c.prepared.addresses[0]!;
    assert.equal(c.status.interfaces[0]!.address, ip);
    assert.match(c.status.interfaces[0]!.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.match(c.ns.exec(['ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout, new RegExp(` ${ip.replace(/\./g, '\\.')}/24 `));
    assert.match(c.ns.exec(['ip', 'route']).stdout, new RegExp(`^default via ${gw.replace(/\./g, '\\.')} dev eth0`, 'm'));
    await httpdIn(c.ns, path.join(base, 'www1'), 'hello from the container');
    assert.equal(await fetchText(`http://${ip}/`), 'hello from the container');
    // outbound: the container reaches a server the test runs on the host, at the gateway address
    const srv = await hostServer(gw, 'hello from the host');
    try {
      assert.equal(await curlIn(c.ns, `http://${gw}:${srv.port}/`), 'hello from the host');
    } finally {
      await srv.close();
    }
    assert.deepEqual(hostTables([d.Table]), [d.Table]);
    await closeAll();
    await leftovers();
  });

  test('published ports: 127.0.0.1:PORT and any port, from the host and from another container; reserved while held, freed at release', async () => {
    const d = await defaultNetwork();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const fixed = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const c = await container([d], [`127.0.0.1:${fixed}:80`, '80']);
    await httpdIn(c.ns, path.join(base, 'www2'), 'published');
    const ports = c.status.ports;
    assert.equal(ports.length, 2);
    assert.deepEqual(ports[0], { proto: 'tcp', hostIp: '127.0.0.1', hostPort: fixed, containerPort: 80 });
    const any = ports[1]!.hostPort;
    assert.ok(any > 0);
    assert.equal(await fetchText(`http://127.0.0.1:${fixed}/`), 'published');
    assert.equal(await fetchText(`http://127.0.0.1:${any}/`), 'published');
    // the host ports are held: nobody else can bind them while the container has them
    assert.equal(await portFree(fixed), false);
    assert.equal(await portFree(any, '0.0.0.0'), false);
    // another container of the network, through the host port on the gateway, and the container itself (hairpin)
    const other = await container([d]);
    const gw = d.IPAM.Config[0]!.Gateway;
    assert.equal(await curlIn(other.ns, `http://${gw}:${any}/`), 'published');
    assert.equal(await curlIn(c.ns, `http://${gw}:${any}/`), 'published');
    const table = portsTableName(c.id);
    assert.deepEqual(hostTables([table]), [table]);
    await c.handle.release();
    assert.deepEqual(hostTables([table]), [], 'the port table goes with its holder');
    assert.equal(await portFree(fixed), true);
    assert.notEqual(await fetchText(`http://127.0.0.1:${fixed}/`, 2000), 'published');
    await closeAll();
    await leftovers();
  });

  test("a host port in use: Docker's error, and nothing of the setup is left", async () => {
    const d = await defaultNetwork();
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      await assert.rejects(container([d], [`127.0.0.1:${port}:80`]), (e: Error) => {
        assert.match(e.message, new RegExp(`^driver failed programming external connectivity on endpoint c\\d+ \\([0-9a-f]{12}\\): failed to bind host port for 127\\.0\\.0\\.1:${port}:10\\.215\\.\\d+\\.\\d+:80/tcp: address already in use$`));
        return true;
      });
    } finally {
      await new Promise((r) => busy.close(r));
    }
    const failed = ids[ids.length - 1]!;
    // the interfaces were undone by the shim; the address is the caller's to free (phase B: run's cleanup)
    assert.deepEqual(hostLinks([hostIfName(failed, 0)]), []);
    await closeAll();
    await leftovers();
  });

  test('user-defined network: names resolve through aardvark-dns (name, short id, alias), not on the default network; it stops with the last container', async () => {
    const u = await createNetwork({ name: 'e2e-user', subnet: '10.216.1.0/24' });
    const d = await defaultNetwork();
    const a = await container([u], [], { aliases: ['web'] });
    const b = await container([u]);
    const gw = u.IPAM.Config[0]!.Gateway;
    assert.deepEqual(a.prepared.resolv, { mode: 'internal', internalNs: gw });
    const lookup = (ns: Netns, name: string, server: string): string => ns.exec(['busybox', 'nslookup', name, server]).stdout;
    const aIp = a.prepared.addresses[0]!;
    for (const name of [`c${n - 1}`, a.id.slice(0, 12), 'web']) assert.match(lookup(b.ns, name, gw), new RegExp(`Address: ${aIp.replace(/\./g, '\\.')}`), name);
    assert.match(lookup(a.ns, `c${n}`, gw), new RegExp(`Address: ${b.prepared.addresses[0]!.replace(/\./g, '\\.')}`));
    const aardvark = (): string[] => processes((c) => c.includes('aardvark-dns') && c.includes(base));
    assert.equal(aardvark().length, 1);
    // the default network has no DNS server: its containers get the host's resolvers (legacy), no names
    const c = await container([d]);
    assert.deepEqual(c.prepared.resolv, { mode: 'legacy' });
    assert.equal(c.status.interfaces[0]!.network, 'bridge');
    await a.handle.release();
    await bridgeBackend.teardown(a.id);
    assert.equal(aardvark().length, 1, 'aardvark-dns serves the remaining container');
    assert.doesNotMatch(lookup(b.ns, 'web', gw), new RegExp(`Address: ${aIp.replace(/\./g, '\\.')}`));
    await closeAll();
    assert.deepEqual(aardvark(), [], 'aardvark-dns stops with the last container of its networks');
    await leftovers();
  });

  test('--internal network: nothing outside the bridge is reachable, not even the host; names still resolve', async () => {
    const i = await createNetwork({ name: 'e2e-internal', subnet: '10.216.2.0/24', internal: true });
    const a = await container([i]);
    const b = await container([i]);
    const gw = i.IPAM.Config[0]!.Gateway;
    assert.doesNotMatch(a.ns.exec(['ip', 'route']).stdout, /^default/m);
    const srv = await hostServer(gw, 'host');
    try {
      assert.match(await curlIn(a.ns, `http://${gw}:${srv.port}/`, 2), /^curl exit/);
      assert.equal(srv.hits(), 0);
    } finally {
      await srv.close();
    }
    await httpdIn(b.ns, path.join(base, 'www5'), 'inside');
    assert.equal(await curlIn(a.ns, `http://${b.prepared.addresses[0]}/`), 'inside');
    assert.match(a.ns.exec(['busybox', 'nslookup', `c${n}`, gw]).stdout, new RegExp(`Address: ${b.prepared.addresses[0]!.replace(/\./g, '\\.')}`));
    await closeAll();
    await leftovers();
  });

  test('a holder killed with SIGKILL: its port table goes at once; the sweep removes veth, bridge, table, DNS entry and lease', async () => {
    const u = await createNetwork({ name: 'e2e-crash', subnet: '10.216.3.0/24' });
    const sleeper = spawn('sleep', ['3600'], { stdio: 'ignore' });
    const c = await container([u], ['80'], { holder: holderOf(sleeper.pid) });
    const table = portsTableName(c.id);
    assert.deepEqual(hostTables([table]), [table]);
    process.kill(c.handle.holder!, 'SIGKILL');
    await until('the port table to go', () => hostTables([table]).length === 0, 10_000);
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('close', r));
    assert.equal(leasesOf(u.Name).length, 1, 'the lease waits for the sweep');
    assert.deepEqual(hostLinks([hostIfName(c.id, 0)]).length, 1, 'the namespace still holds its veth');
    // the "container" ends; what it left is swept by the next invocation
    open.splice(open.findIndex((e) => e.ns === c.ns), 1);
    await c.ns.close();
    assert.deepEqual(await bridgeBackend.sweep(), [c.id]);
    assert.deepEqual(await bridgeBackend.sweep(), [], 'a second sweep finds nothing');
    await closeAll();
    await leftovers();
  });

  test('a final teardown under way (its mark locked): a start\'s sweep leaves the lease to a later sweep; done: only the lease is forgotten; killed (empty, unlocked): torn down again', async () => {
    const d = await defaultNetwork();
    const holders = [spawn('sleep', ['3600'], { stdio: 'ignore' }), spawn('sleep', ['3600'], { stdio: 'ignore' })];
    const [a, b] = [await container([d], [], { holder: holderOf(holders[0]!.pid) }), await container([d], [], { holder: holderOf(holders[1]!.pid) })];
    // what the shim's net_teardown_detached does for a: its mark made and locked while its child tears down
    const mark = networkDownFile(a.id);
    const fd = fs.openSync(mark, 'w');
    assert.equal(native().flock(fd, true, true), true);
    // b's teardown was killed before it finished: its mark is empty and nobody holds it
    fs.writeFileSync(networkDownFile(b.id), '');
    for (const h of holders) {
      h.kill('SIGKILL');
      await new Promise((r) => h.once('close', r));
    }
    for (const c of [a, b]) {
      open.splice(open.findIndex((e) => e.ns === c.ns), 1);
      await c.ns.close();
    }
    assert.deepEqual(await bridgeBackend.sweep(undefined, { wait: false }), [b.id], 'a start tears b down and leaves a to its teardown');
    assert.deepEqual(leasesOf(d.Name).map((l) => l.container), [a.id], 'a\'s lease waits');
    assert.equal(fs.existsSync(networkDownFile(b.id)), false);
    // a's teardown finishes (here: the shim's teardown of its plan), marks it done and ends
    await shimTeardown(a.prepared.plan);
    fs.writeSync(fd, 'done\n');
    fs.closeSync(fd);
    assert.deepEqual(await bridgeBackend.sweep(), [a.id]);
    assert.equal(fs.existsSync(mark), false);
    await closeAll();
    await leftovers();
  });

  test("the shim refuses plans naming links or tables that are not skiff's (teardown deletes by name)", async () => {
    const d = await defaultNetwork();
    const lease = { container: 'f'.repeat(64), ip: '10.215.0.200', static: false, ifName: 'eth0', hostIf: hostIfName('f'.repeat(64), 0), at: 'x' };
    const plan = bridgePlan('f'.repeat(64), 'x', [{ network: d, lease }], []);
    const ns = await makeNetns();
    try {
      for (const [mutate, msg] of [
        [(p: typeof plan) => (p.interfaces[0]!.network.bridge = 'docker0'), /skiff manages only bridges named skiff\* and tables skiff_\*/],
        [(p: typeof plan) => (p.interfaces[0]!.network.table = 'filter'), /skiff manages only bridges named skiff\* and tables skiff_\*/],
        [(p: typeof plan) => (p.interfaces[0]!.hostName = 'eth0'), /skiff manages only host links named sk\*/],
      ] as const) {
        const bad = structuredClone(plan);
        mutate(bad);
        await assert.rejects(shimSetup(bad, ns.pid), msg);
        await assert.rejects(shimTeardown(bad), msg);
      }
    } finally {
      await ns.close();
    }
    await leftovers();
  });
});
