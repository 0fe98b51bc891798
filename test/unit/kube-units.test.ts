import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuQuantity, isQuantity, memoryQuantity, nsToSeconds, quantityBytes, quantityNanoCpus } from '../../src/kube/quantity.js';
import { dns1123Label, hostPathVolumeName, ianaServiceName, labelValue, qualifiedName, toDns1035Label, toDnsLabel, uniqueName } from '../../src/kube/names.js';
import { healthToProbe, probeToHealth, healthFromAnnotation } from '../../src/kube/health.js';
import { capabilityName, parseRestart, restartFromKube, restartToKube, securityFromKube, securityToKube } from '../../src/kube/policy.js';
import { expand } from '../../src/kube/env.js';
import { formats } from '../../src/kube/formats.js';

test('quantities: the Kubernetes grammar, bytes and CPUs both ways', () => {
  for (const q of ['1', '1.5', '.5', '1.', '500m', '64Mi', '1Gi', '1G', '1e3', '1E-2', '+1', '-1', '100n', '2u', '3k']) assert.ok(isQuantity(q), q);
  for (const q of ['', 'abc', '1 Gi', '1gi', '12xyz', '1KiB', '1.2.3', '1h', 'Mi']) assert.ok(!isQuantity(q), q);
  assert.equal(memoryQuantity(64 * 1024 ** 2), '64Mi');
  assert.equal(memoryQuantity(1024 ** 3), '1Gi');
  assert.equal(memoryQuantity(1e9), '1G');
  assert.equal(memoryQuantity(1500), '1500');
  assert.equal(cpuQuantity(1.5e9), '1500m');
  assert.equal(cpuQuantity(2e9), '2');
  assert.equal(cpuQuantity(1), '1m'); // below 1m rounds up (the API server keeps no more)
  assert.equal(quantityBytes('64Mi'), 64 * 1024 ** 2);
  assert.equal(quantityBytes('1.5Ki'), 1536);
  assert.equal(quantityBytes('0.5'), 1); // fractions of a byte round up
  assert.equal(quantityBytes(1000), 1000);
  assert.equal(quantityNanoCpus('250m'), 250e6);
  assert.equal(quantityNanoCpus('1.5'), 1.5e9);
  assert.equal(quantityNanoCpus(2), 2e9);
  assert.equal(quantityBytes('12xyz'), undefined);
  assert.deepEqual([nsToSeconds(1.5e9, 1), nsToSeconds(0, 1), nsToSeconds(0, 0), nsToSeconds(30e9, 1), nsToSeconds(1, 0)], [2, 1, 0, 30, 1]);
});

test('formats: what the generated validators ask for', () => {
  const v = (name: string, x: unknown): boolean => {
    const f = formats[name]!.validate;
    return f instanceof RegExp ? f.test(String(x)) : f(x);
  };
  assert.ok(v('int32', 65535) && !v('int32', 2 ** 31) && !v('int32', 1.5) && v('int32', 'not a number: type says'));
  assert.ok(v('byte', 'c2VjcmV0') && !v('byte', 'not base64!'));
  assert.ok(v('date-time', '2026-01-01T00:00:00Z') && !v('date-time', 'yesterday'));
  assert.ok(v('quantity', '64Mi') && !v('quantity', '64MB'));
});

test('names: Kubernetes syntaxes and the names generate makes', () => {
  assert.equal(dns1123Label('web-1'), undefined);
  assert.match(dns1123Label('Web_1')!, /DNS-1123 label/);
  assert.match(dns1123Label('a'.repeat(64))!, /no more than 63/);
  assert.equal(qualifiedName('app.kubernetes.io/name'), undefined);
  assert.match(qualifiedName('a b')!, /name part/);
  assert.match(qualifiedName('Bad_Prefix/x')!, /prefix part/);
  assert.equal(labelValue(''), undefined);
  assert.match(labelValue('/x/y')!, /must be empty or/);
  assert.equal(ianaServiceName('tcp-8080'), undefined);
  assert.match(ianaServiceName('8080')!, /at least one letter/);
  assert.match(ianaServiceName('a--b')!, /consecutive/);
  assert.equal(toDnsLabel('My_App.web-1'), 'my-app-web-1');
  assert.equal(toDnsLabel('___'), 'x');
  assert.equal(toDns1035Label('1web'), 's-1web');
  assert.equal(hostPathVolumeName('/srv/data/'), 'srv-data-host');
  assert.equal(hostPathVolumeName('/'), 'root-host');
  assert.ok(hostPathVolumeName(`/${'d'.repeat(100)}`).length <= 63);
  const taken = new Set<string>();
  assert.deepEqual([uniqueName('v', taken), uniqueName('v', taken), uniqueName('v', taken)], ['v', 'v-1', 'v-2']);
});

test('health: Docker\'s healthcheck ↔ probes, rounding up, exactness', () => {
  const r = healthToProbe({ Test: ['CMD-SHELL', 'true'], Interval: 0, Timeout: 0, StartPeriod: 0, Retries: 0 });
  // Docker's defaults written out (Kubernetes' differ)
  assert.deepEqual(r, { probe: { exec: { command: ['/bin/sh', '-c', 'true'] }, periodSeconds: 30, timeoutSeconds: 30, failureThreshold: 3 }, exact: true });
  const inexact = healthToProbe({ Test: ['CMD', 'x'], Interval: 500e6, Timeout: 1.2e9, Retries: 1 })!;
  assert.deepEqual([inexact.probe.periodSeconds, inexact.probe.timeoutSeconds, inexact.exact], [1, 2, false]);
  assert.equal(healthToProbe({ Test: ['NONE'] }), undefined);
  assert.equal(healthToProbe({ Test: [] }), undefined);
  const back = probeToHealth({ exec: { command: ['/bin/sh', '-c', 'true'] }, periodSeconds: 30, timeoutSeconds: 30, failureThreshold: 3 }, () => undefined);
  assert.deepEqual(back, { Test: ['CMD-SHELL', 'true'], Interval: 30e9, Timeout: 30e9, Retries: 3 });
  // Kubernetes' defaults for what a probe does not say
  assert.deepEqual(probeToHealth({ exec: { command: ['a', 'b'] } }, () => undefined), { Test: ['CMD', 'a', 'b'], Interval: 10e9, Timeout: 1e9, Retries: 3 });
  assert.deepEqual(probeToHealth({ tcpSocket: { port: 'db' } }, (p) => (p === 'db' ? 5432 : undefined)), { Test: ['CMD-SHELL', "nc -z 'localhost' 5432"], Interval: 10e9, Timeout: 1e9, Retries: 3 });
  assert.deepEqual(probeToHealth({ httpGet: { port: 'x' } }, () => undefined), { unsupported: 'httpGet port "x" names no port of the container' });
  // a path with a quote cannot break out of the shell word
  const h = probeToHealth({ httpGet: { port: 80, path: "/a'b" } }, (p) => Number(p)) as { Test: string[] };
  assert.match(h.Test[1]!, /'http:\/\/localhost:80\/a'\\''b'/);
  // the exact annotation is used only while it describes the same test
  const exact = { Test: ['CMD', 'x'], Interval: 500e6, Timeout: 1.2e9, Retries: 1 };
  assert.deepEqual(healthFromAnnotation(JSON.stringify(exact), { Test: ['CMD', 'x'] }), exact);
  assert.equal(healthFromAnnotation(JSON.stringify(exact), { Test: ['CMD', 'y'] }), undefined);
  assert.equal(healthFromAnnotation('not json', { Test: ['CMD', 'x'] }), undefined);
});

test('policy: restart, security, capabilities', () => {
  assert.deepEqual(restartToKube({ Name: 'no', MaximumRetryCount: 0 }), { policy: 'Never' });
  assert.deepEqual(restartToKube({ Name: 'always', MaximumRetryCount: 0 }), { policy: 'Always' });
  assert.deepEqual(restartToKube({ Name: 'unless-stopped', MaximumRetryCount: 0 }), { policy: 'Always', annotation: 'unless-stopped' });
  assert.deepEqual(restartToKube({ Name: 'on-failure', MaximumRetryCount: 4 }), { policy: 'OnFailure', annotation: 'on-failure:4' });
  assert.deepEqual(restartFromKube(undefined, undefined), { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(restartFromKube('Always', 'on-failure:2'), { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.deepEqual(restartFromKube('OnFailure', 'unless-stopped'), { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestart('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(parseRestart('sometimes'), undefined);
  assert.equal(capabilityName('cap_net_admin'), 'NET_ADMIN');
  assert.equal(capabilityName('ALL'), 'ALL');
  const base = { capAdd: [], capDrop: [], readOnlyRootfs: false, privileged: false, noNewPrivileges: false };
  assert.deepEqual(securityToKube({ ...base, user: '1000' }), { context: { runAsUser: 1000 } });
  assert.deepEqual(securityToKube({ ...base, user: 'app:staff' }), { userAnnotation: 'app:staff' });
  assert.deepEqual(securityToKube({ ...base, privileged: true, noNewPrivileges: true }), { context: { privileged: true } });
  const back = securityFromKube({ runAsGroup: 50 }, { runAsUser: 7, runAsNonRoot: true }, undefined);
  assert.deepEqual([back.user, back.runAsNonRoot], ['7:50', true]);
  assert.equal(securityFromKube({ runAsGroup: 5 }, undefined, undefined).groupOnly, 5);
});

test('env: Kubernetes\' $(VAR) expansion', () => {
  const vars: Record<string, string> = { A: 'x', B: 'y' };
  const look = (n: string): string | undefined => vars[n];
  assert.equal(expand('$(A)-$(B)', look), 'x-y');
  assert.equal(expand('$$(A)', look), '$(A)');
  assert.equal(expand('$(C)', look), '$(C)');
  assert.equal(expand('$A $', look), '$A $');
  assert.equal(expand('$(A', look), '$(A');
  assert.equal(expand('$$$(A)', look), '$x');
});
