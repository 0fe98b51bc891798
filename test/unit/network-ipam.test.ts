/**
 * Network records and address leases in a store of the test's own (files only; no interface is
 * made): the default network on first use, pools, host routes and other stores' claims avoided,
 * addresses in order, static ones, leases of dead holders reused and reported, exhaustion.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configure } from '../../src/config.js';
import { allocate, forgetLease, holderOf, leasesOf, release, staleLeases, type Holder } from '../../src/network/ipam.js';
import { formatPrefix, parseIPv4 } from '../../src/network/ipv4.js';
import {
  addressPools, claimSubnet, createNetwork, defaultNetwork, findNetwork, listNetworks, removeNetworkRecord,
} from '../../src/network/store.js';
import { dnsNames } from '../../src/network/bridge.js';
import { defaultGateway, hostRoutes } from '../../src/network/routes.js';
import { bridgePlan, hostIfName } from '../../src/network/plan.js';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  delete process.env.SKIFF_SUBNET_CLAIMS;
});

function freshStore(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-net-unit-'));
  made.push(dir);
  configure({ root: path.join(dir, 'root'), runroot: path.join(dir, 'run') });
  process.env.SKIFF_SUBNET_CLAIMS = path.join(dir, 'claims');
  return dir;
}

/** A holder that is gone: a child that already exited. */
function deadHolder(): Holder {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return { pid: Number(String(r.stdout).trim()), startMs: 1 };
}

const req = (container: string, holder: Holder, extra: Partial<Parameters<typeof allocate>[1]> = {}) => ({
  container,
  ifName: 'eth0',
  hostIf: hostIfName(container, 0),
  holder,
  ...extra,
});

test('address pools: Docker defaults, SKIFF_ADDRESS_POOLS', () => {
  const d = addressPools(undefined).map(formatPrefix);
  assert.equal(d[0], '172.17.0.0/16');
  assert.equal(d[14], '172.31.0.0/16');
  assert.equal(d[15], '192.168.0.0/20');
  assert.equal(d.length, 15 + 16);
  assert.deepEqual(addressPools('10.10.0.0/16/24').slice(0, 2).map(formatPrefix), ['10.10.0.0/24', '10.10.1.0/24']);
  assert.throws(() => addressPools('10.10.0.1/16/24'), /SKIFF_ADDRESS_POOLS: 10\.10\.0\.1\/16\/24 is not BASE\/BITS\/SIZE/);
});

test('host routes from /proc/net/route, default routes left out; the default gateway', () => {
  const text = `Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
`;
  assert.deepEqual(hostRoutes(text).map(formatPrefix), ['192.0.2.0/24', '172.17.0.0/16']);
  assert.equal(defaultGateway(text), '192.0.2.1');
  assert.equal(defaultGateway(text.split('\n').filter((l) => !l.includes('010200C0')).join('\n')), undefined);
});

test('the default network: made once, first pool subnet clear of routes and claims; SKIFF_BRIDGE_SUBNET', async () => {
  freshStore();
  process.env.SKIFF_ADDRESS_POOLS = '10.231.0.0/16/24';
  try {
    const busy = hostRoutes().some((r) => formatPrefix(r) === '10.231.0.0/24');
    const d = await defaultNetwork();
    assert.equal(d.Name, 'bridge');
    assert.ok(d.Default && !d.DNS && !d.SubnetStatic);
    assert.equal(d.IPAM.Config[0]!.Subnet, busy ? '10.231.1.0/24' : '10.231.0.0/24');
    assert.match(d.Bridge, /^skiff-[0-9a-f]{9}$/);
    assert.equal((await defaultNetwork()).Id, d.Id);
    await claimSubnet(d);
    // another store sees the claim and takes the next subnet
    freshStoreKeepingClaims();
    const other = await defaultNetwork();
    assert.notEqual(other.IPAM.Config[0]!.Subnet, d.IPAM.Config[0]!.Subnet);
  } finally {
    delete process.env.SKIFF_ADDRESS_POOLS;
  }
  freshStore();
  process.env.SKIFF_BRIDGE_SUBNET = '10.232.5.0/24';
  try {
    assert.equal((await defaultNetwork()).IPAM.Config[0]!.Gateway, '10.232.5.1');
  } finally {
    delete process.env.SKIFF_BRIDGE_SUBNET;
  }
});

function freshStoreKeepingClaims(): void {
  const claims = process.env.SKIFF_SUBNET_CLAIMS;
  freshStore();
  process.env.SKIFF_SUBNET_CLAIMS = claims;
}

test('network create: names, overlaps, gateway and ip-range checks; claims conflict across stores', async () => {
  freshStore();
  const a = await createNetwork({ name: 'a', subnet: '10.233.0.0/24', labels: { x: 'y' } });
  assert.ok(a.DNS && a.SubnetStatic && !a.Default);
  assert.deepEqual(findNetwork('a').Id, a.Id);
  assert.deepEqual(findNetwork(a.Id.slice(0, 6)).Name, 'a');
  await assert.rejects(createNetwork({ name: 'a', subnet: '10.233.1.0/24' }), { message: 'network with name a already exists' });
  await assert.rejects(createNetwork({ name: 'b', subnet: '10.233.0.128/25' }), { message: 'invalid pool request: Pool overlaps with other one on this address space' });
  await assert.rejects(createNetwork({ name: 'c', subnet: '10.234.0.0/24', gateway: '10.235.0.1' }), { message: 'invalid gateway 10.235.0.1: not in subnet 10.234.0.0/24' });
  await assert.rejects(createNetwork({ name: 'bridge' }), { message: 'bridge is a pre-defined network and cannot be created' });
  await assert.rejects(createNetwork({ name: 'x/y' }), /invalid network name/);
  assert.throws(() => findNetwork('nope'), { message: 'network nope not found' });
  // another store on this host cannot take an overlapping subnet while a's record exists
  freshStoreKeepingClaims();
  await assert.rejects(createNetwork({ name: 'z', subnet: '10.233.0.0/16' }), /subnet 10\.233\.0\.0\/16 of network z overlaps 10\.233\.0\.0\/24 of network a in the store /);
  assert.deepEqual(listNetworks(), []); // the refused record is gone again
});

test('leases: in order after the last, gateway skipped, renewed for the same container, static, in use', async () => {
  freshStore();
  const n = await createNetwork({ name: 'n', subnet: '10.236.0.0/29' }); // .1 gateway, .2-.6 usable
  const me = holderOf();
  const ip = async (c: string, extra = {}) => (await allocate(n, req(c, me, extra))).lease.ip;
  assert.equal(await ip('c1'), '10.236.0.2');
  assert.equal(await ip('c2'), '10.236.0.3');
  assert.equal(await ip('c1'), '10.236.0.2'); // a restart keeps its address
  await release('n', 'c2');
  assert.equal(await ip('c3'), '10.236.0.4'); // in order after the last, not the freed one
  assert.equal(await ip('c4', { staticIp: parseIPv4('10.236.0.6') }), '10.236.0.6');
  await assert.rejects(allocate(n, req('c5', me, { staticIp: parseIPv4('10.236.0.6') })), { message: 'Address already in use' });
  await assert.rejects(allocate(n, req('c5', me, { staticIp: parseIPv4('10.236.0.1') })), { message: 'Address already in use' });
  assert.equal(await ip('c5'), '10.236.0.5');
  assert.equal(await ip('c6'), '10.236.0.3'); // wrapped around to the freed one
  await assert.rejects(allocate(n, req('c7', me)), { message: `no available IPv4 addresses on this network's address pools: n (${n.Id})` });
  assert.deepEqual(leasesOf('n').map((l) => l.container).sort(), ['c1', 'c3', 'c4', 'c5', 'c6']);
});

test('stale leases: a dead holder frees the address, the lease stays until its teardown is done', async () => {
  freshStore();
  const n = await createNetwork({ name: 'n', subnet: '10.237.0.0/30' }); // one usable address: .2
  const dead = deadHolder();
  await allocate(n, req('gone', dead, { dnsNames: dnsNames('Web', 'gone0000000000', ['Alias']) }));
  const r = await allocate(n, req('new', holderOf()));
  assert.equal(r.lease.ip, '10.237.0.2');
  assert.deepEqual(r.stale.map((l) => l.container), ['gone']);
  assert.deepEqual(r.stale[0]!.dnsNames, ['web', 'gone00000000', 'alias']);
  const stale = await staleLeases(['n']);
  assert.deepEqual(stale.map((s) => s.lease.container), ['gone']);
  await forgetLease('n', stale[0]!.lease);
  assert.deepEqual(leasesOf('n').map((l) => l.container), ['new']);
  // the caller's liveness keeps a lease whose holder is gone (a container that still runs)
  await allocate(n, req('other', dead)).catch(() => undefined);
  assert.deepEqual((await staleLeases(['n'], () => true)).length, 0);
});

test('the plan for the shim: interfaces, names made from ids, ports on the first network', async () => {
  freshStore();
  const d = await defaultNetwork();
  const u = await createNetwork({ name: 'u', subnet: '10.238.0.0/24', internal: true });
  const id = 'c0ffee'.padEnd(64, '0');
  const l1 = (await allocate(d, req(id, holderOf()))).lease;
  const l2 = (await allocate(u, { ...req(id, holderOf()), ifName: 'eth1', hostIf: hostIfName(id, 1), dnsNames: ['web'] })).lease;
  const plan = bridgePlan(id, 'web (c0ffee000000)', [{ network: d, lease: l1 }, { network: u, lease: l2 }], [
    { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, hostPortEnd: 8080, containerPort: 80 },
    { proto: 'udp', hostIp: '', hostPort: 0, hostPortEnd: 0, containerPort: 53 },
  ]);
  assert.equal(plan.interfaces[0]!.hostName, 'skc0ffee0000000');
  assert.equal(plan.interfaces[1]!.hostName, 'skc0ffee0000001');
  assert.ok(plan.interfaces[0]!.defaultRoute && !plan.interfaces[1]!.defaultRoute);
  assert.equal(plan.interfaces[0]!.dnsNames, undefined); // no names on the default network (Docker's rule)
  assert.equal(plan.interfaces[1]!.dnsNames, 'web');
  assert.equal(plan.interfaces[1]!.network.internal, true);
  assert.equal(plan.portsTable, 'skiff_p_c0ffee000000');
  assert.deepEqual(plan.ports, [
    { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, hostPortEnd: 8080, containerIp: l1.ip, containerPort: 80 },
    { proto: 'udp', hostPort: 0, hostPortEnd: 0, containerIp: l1.ip, containerPort: 53 },
  ]);
  await removeNetworkRecord(u);
  assert.deepEqual(listNetworks().map((n) => n.Name), ['bridge']);
});
