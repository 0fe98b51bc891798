/**
 * create's network options (container/network.ts checkNetworkOptions): the modes, Docker's conflicts
 * and warnings, what is recorded for the start (endpoints, ports, DNS, extra hosts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configure } from '../../src/config.js';
import { checkNetworkOptions, type NetworkOptions } from '../../src/container/network.js';
import { SkiffError } from '../../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-netopts-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
configure({ root: path.join(root, 'root'), runroot: path.join(root, 'run') });

const opts = (o: Partial<NetworkOptions> = {}): NetworkOptions => ({
  network: [], aliases: [], dns: [], dnsSearch: [], dnsOptions: [], addHost: [], publish: [], publishAll: false, expose: [], ...o,
});
const fails = (o: Partial<NetworkOptions>, msg: string): void =>
  assert.throws(() => checkNetworkOptions(opts(o)), (e: unknown) => e instanceof SkiffError && e.message === msg && e.exitCode === 125);

test('the default network: bridge, ports, --expose, DNS and extra hosts recorded', () => {
  const c = checkNetworkOptions(opts({ publish: ['127.0.0.1:8080:80', '53/udp'], expose: ['81'], dns: ['1.1.1.1'], addHost: ['db:10.0.0.5', 'gw:host-gateway'] }));
  assert.equal(c.mode, 'bridge');
  assert.deepEqual(Object.keys(c.endpoints), ['bridge']);
  assert.deepEqual(c.bindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(Object.keys(c.exposed).sort(), ['53/udp', '80/tcp', '81/tcp']);
  assert.deepEqual(c.dns, ['1.1.1.1']);
  assert.deepEqual(c.extraHosts, ['db:10.0.0.5', 'gw:host-gateway']);
  assert.deepEqual(c.warnings, []);
  assert.equal(checkNetworkOptions(opts({ network: ['default'] })).mode, 'bridge');
});

test('host: ports are discarded with Docker\'s warning; none keeps them quietly', () => {
  const h = checkNetworkOptions(opts({ network: ['host'], publish: ['80'] }));
  assert.equal(h.mode, 'host');
  assert.deepEqual(h.endpoints, {});
  assert.deepEqual(h.warnings, ['Published ports are discarded when using host network mode']);
  assert.deepEqual(checkNetworkOptions(opts({ network: ['none'], publish: ['80'] })).warnings, []);
});

test("Docker's conflicts and errors", () => {
  fails({ network: ['host', 'bridge'] }, 'conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  fails({ network: ['host'], mac: '02:42:ac:11:00:02' }, 'conflicting options: mac-address and the network mode');
  fails({ network: ['host'], ip: '10.1.2.3' }, 'invalid endpoint settings: user specified IP address is supported on user defined networks only');
  fails({ ip: '10.1.2.3' }, 'invalid endpoint settings: user specified IP address is supported on user defined networks only');
  fails({ aliases: ['a'] }, 'invalid endpoint settings: network-scoped alias is supported only for containers in user defined networks');
  fails({ network: ['container:'] }, 'Invalid network mode: invalid container format container:<name|id>');
  fails({ network: ['container:x'], hostname: 'h' }, 'conflicting options: hostname and the network mode');
  fails({ network: ['container:x'], dns: ['1.1.1.1'] }, 'conflicting options: dns and the network mode');
  fails({ network: ['container:x'], publish: ['80'] }, 'conflicting options: port publishing and the container type network mode');
  fails({ network: ['nope'] }, 'network nope not found');
  fails({ dns: ['x'] }, 'invalid argument "x" for "--dns" flag: IP address is not correctly formatted: x');
});
