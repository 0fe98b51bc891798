/**
 * -p/--publish, --expose and -P as Docker's CLI 28.2 parses them (go-connections/nat as vendored
 * there): the mappings and Docker's error words, case by case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  effectiveBindings, forwardsOf, parseExpose, parsePortRange, parsePortSpec, parsePublish, splitProtoPort, toStandardNotation,
} from '../../src/network/ports.js';

const spec = (raw: string): [string, string, string][] => parsePortSpec(raw).map((m) => [m.port, m.binding.HostIp, m.binding.HostPort]);
const fails = (raw: string, msg: string): void => assert.throws(() => parsePortSpec(raw), { message: msg }, raw);

test('container port only, host port, host ip, protocols', () => {
  assert.deepEqual(spec('80'), [['80/tcp', '', '']]);
  assert.deepEqual(spec('8080:80'), [['80/tcp', '', '8080']]);
  assert.deepEqual(spec('127.0.0.1:8080:80'), [['80/tcp', '127.0.0.1', '8080']]);
  assert.deepEqual(spec('127.0.0.1::80'), [['80/tcp', '127.0.0.1', '']]);
  assert.deepEqual(spec('53:53/udp'), [['53/udp', '', '53']]);
  assert.deepEqual(spec('53:53/UDP'), [['53/udp', '', '53']]);
  assert.deepEqual(spec('9:9/sctp'), [['9/sctp', '', '9']]);
  assert.deepEqual(spec('80/'), [['80/tcp', '', '']]);
  assert.deepEqual(spec('80/tcp/extra'), [['80/tcp', '', '']]); // SplitProtoPort looks at two parts
  assert.deepEqual(spec('0:80'), [['80/tcp', '', '0']]);
  assert.deepEqual(spec('080:80'), [['80/tcp', '', '80']]);
});

test('ranges: equal lengths pair up, one container port takes a host range to pick from', () => {
  assert.deepEqual(spec('8000-8002:8000-8002'), [
    ['8000/tcp', '', '8000'],
    ['8001/tcp', '', '8001'],
    ['8002/tcp', '', '8002'],
  ]);
  assert.deepEqual(spec('1234-1236/udp'), [
    ['1234/udp', '', ''],
    ['1235/udp', '', ''],
    ['1236/udp', '', ''],
  ]);
  assert.deepEqual(spec('8000-8010:80'), [['80/tcp', '', '8000-8010']]);
  assert.deepEqual(spec('80-80:80'), [['80/tcp', '', '80']]);
  assert.deepEqual(spec('9000-9000-1:80'), [['80/tcp', '', '9000']]); // ParsePortRange ignores a third part
  fails('8000-8001:80-82', 'invalid ranges specified for container and host Ports: 80-82 and 8000-8001');
  fails('80:90-80', 'invalid containerPort: 90-80');
});

test('IPv6 host addresses, bracketed or not', () => {
  assert.deepEqual(spec('[::1]:8080:80'), [['80/tcp', '::1', '8080']]);
  assert.deepEqual(spec('::1:8080:80'), [['80/tcp', '::1', '8080']]);
  assert.deepEqual(spec('[2001:db8::1]::80/udp'), [['80/udp', '2001:db8::1', '']]);
  assert.deepEqual(spec('[::ffff:127.0.0.1]:1:2'), [['2/tcp', '::ffff:127.0.0.1', '1']]);
  fails('[::1:8080:80', "invalid IP address [::1: address [::1:: missing ']' in address");
  fails('[::1]x:8080:80', 'invalid IP address [::1]x: address [::1]x:: missing port in address');
  fails('fe80::1%eth0:1:2', 'invalid IP address: fe80::1%eth0');
});

test("Docker's error words", () => {
  fails('', 'no port specified: <empty>');
  fails('8080:', 'no port specified: 8080:<empty>');
  fails('abc', 'invalid containerPort: abc');
  fails('80:abc', 'invalid containerPort: abc');
  fails('abc:80', 'invalid hostPort: abc');
  fails('65536', 'invalid containerPort: 65536');
  fails('1.2.3:80:80', 'invalid IP address: 1.2.3');
  fails('01.2.3.4:80:80', 'invalid IP address: 01.2.3.4');
  fails('localhost:80:80', 'invalid IP address: localhost');
  fails('80/icmp', 'invalid proto: icmp');
  fails('-1', 'invalid containerPort: -1');
  fails('+80', 'invalid containerPort: +80');
});

test('parsePortRange and splitProtoPort are nat.ParsePortRange / SplitProtoPort', () => {
  assert.deepEqual(parsePortRange('80'), [80, 80]);
  assert.deepEqual(parsePortRange('1-3'), [1, 3]);
  assert.equal(parsePortRange(''), 'empty string specified for ports');
  assert.equal(parsePortRange('x'), 'strconv.ParseUint: parsing "x": invalid syntax');
  assert.equal(parsePortRange('70000'), 'strconv.ParseUint: parsing "70000": value out of range');
  assert.equal(parsePortRange('3-1'), 'invalid range specified for port: 3-1');
  assert.deepEqual(splitProtoPort(''), ['', '']);
  assert.deepEqual(splitProtoPort('/udp'), ['', '']);
  assert.deepEqual(splitProtoPort('53/udp'), ['udp', '53']);
});

test('parsePublish merges bindings per port and exposes each', () => {
  const r = parsePublish(['8080:80', '127.0.0.1:8081:80', '53:53/udp', 'published=9000,target=90,protocol=udp']);
  assert.deepEqual(r.exposed, { '80/tcp': {}, '53/udp': {}, '90/udp': {} });
  assert.deepEqual(r.bindings, {
    '80/tcp': [
      { HostIp: '', HostPort: '8080' },
      { HostIp: '127.0.0.1', HostPort: '8081' },
    ],
    '53/udp': [{ HostIp: '', HostPort: '53' }],
    '90/udp': [{ HostIp: '', HostPort: '9000' }],
  });
});

test('the long --publish syntax', () => {
  assert.deepEqual(toStandardNotation(['target=80']), [':80/tcp']);
  assert.deepEqual(toStandardNotation(['published=8080,target=80']), ['8080:80/tcp']);
  assert.throws(() => toStandardNotation(['published=8080,target']), {
    message: "invalid publish opts format (should be name=value but got 'target')",
  });
});

test('--expose: ports and ranges, the CLI errors', () => {
  assert.deepEqual(parseExpose(['80', '8000-8002/udp']), ['80/tcp', '8000/udp', '8001/udp', '8002/udp']);
  assert.throws(() => parseExpose(['80:80']), { message: 'invalid port format for --expose: 80:80' });
  assert.throws(() => parseExpose(['abc']), {
    message: 'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax',
  });
});

test('-P binds every exposed port without a binding to any host port', () => {
  const exposed = { '80/tcp': {}, '443/tcp': {}, '53/udp': {} };
  const b = effectiveBindings({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, exposed, true);
  assert.deepEqual(b, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '443/tcp': [{ HostIp: '', HostPort: '' }],
    '53/udp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(effectiveBindings({}, exposed, false), {});
});

test('forwards for the plan: ports as numbers, any port 0, host ranges', () => {
  assert.deepEqual(forwardsOf(parsePublish(['127.0.0.1:8080:80', '90', '7000-7005:70/udp']).bindings), [
    { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, hostPortEnd: 8080, containerPort: 80 },
    { proto: 'tcp', hostIp: '', hostPort: 0, hostPortEnd: 0, containerPort: 90 },
    { proto: 'udp', hostIp: '', hostPort: 7000, hostPortEnd: 7005, containerPort: 70 },
  ]);
});
