/**
 * The pure parts of detached containers: json-file lines, --since/--until/--tail values (Docker's
 * timetypes rules), `-t` timestamps, attach frames and detach keys, and the run flags the monitor
 * acts on (--restart, --log-opt, --health-*), with Docker's messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, parseDetachKeys } from '../../src/container/attach.js';
import { mergeHealthcheck, parseLogConfig, parseRestartPolicy } from '../../src/container/create.js';
import { fixedNano, inWindow, parseLogLine, parseLogTime, parseTail, rfc3339ToNs } from '../../src/container/logs.js';
import { parseSize } from '../../src/lib/units.js';
import { SkiffError } from '../../src/errors.js';

test('json-file lines', () => {
  assert.deepEqual(parseLogLine('{"log":"a\\n","stream":"stderr","time":"2026-12-01T09:00:00.1Z"}'), {
    log: 'a\n', stream: 'stderr', time: '2026-12-01T09:00:00.1Z',
  });
  assert.equal(parseLogLine('{"log":"a\\n","stream":"stdout","ti'), undefined, 'a torn last line');
  assert.equal(parseLogLine(''), undefined);
  assert.equal(parseLogLine('{"stream":"stdout"}'), undefined);
});

test('RFC 3339 with nanoseconds, Unix seconds and Go durations', () => {
  assert.equal(rfc3339ToNs('2026-12-01T09:00:00.123456789Z'), 1796115600123456789n);
  assert.equal(rfc3339ToNs('2026-12-01T09:00:00Z'), 1796115600000000000n);
  assert.equal(rfc3339ToNs('2026-12-01T10:00:00.5+01:00'), 1796115600500000000n);
  assert.equal(rfc3339ToNs('2026-12-01T09:00Z'), 1796115600000000000n);
  assert.equal(rfc3339ToNs('yesterday'), undefined);
  assert.equal(parseLogTime('since', '1796115600'), 1796115600000000000n);
  assert.equal(parseLogTime('since', '1796115600.25'), 1796115600250000000n);
  const now = 1_796_115_600_000;
  assert.equal(parseLogTime('since', '10m', now), BigInt(now - 600_000) * 1_000_000n);
  assert.equal(parseLogTime('since', '1h30m', now), BigInt(now - 5_400_000) * 1_000_000n);
  assert.throws(() => parseLogTime('until', 'soon'), (e: unknown) => e instanceof SkiffError && /invalid value for "until"/.test(e.message));
});

test('-t prints a fixed 9-digit fraction; --since/--until are inclusive; --tail', () => {
  assert.equal(fixedNano('2026-12-01T09:00:00.1Z'), '2026-12-01T09:00:00.100000000Z');
  assert.equal(fixedNano('2026-12-01T09:00:00Z'), '2026-12-01T09:00:00.000000000Z');
  assert.equal(fixedNano('2026-12-01T09:00:00.123456789Z'), '2026-12-01T09:00:00.123456789Z');
  const e = { log: 'x\n', stream: 'stdout' as const, time: '2026-12-01T09:00:00.5Z' };
  const t = rfc3339ToNs(e.time)!;
  assert.ok(inWindow(e, { since: t, until: t }));
  assert.ok(!inWindow(e, { since: t + 1n }));
  assert.ok(!inWindow(e, { until: t - 1n }));
  assert.equal(parseTail('all'), undefined);
  assert.equal(parseTail('-1'), undefined);
  assert.equal(parseTail('3'), 3);
  assert.throws(() => parseTail('x'));
});

test('attach frames split across chunks; detach keys', () => {
  const got: [number, string][] = [];
  const r = new FrameReader((s, d) => got.push([s, d.toString()]));
  const frame = (s: number, text: string): Buffer => {
    const h = Buffer.alloc(8);
    h[0] = s;
    h.writeUInt32BE(text.length, 4);
    return Buffer.concat([h, Buffer.from(text)]);
  };
  const all = Buffer.concat([frame(1, 'out'), frame(2, 'err'), frame(1, '')]);
  r.push(all.subarray(0, 5));
  r.push(all.subarray(5, 13));
  r.push(all.subarray(13));
  assert.deepEqual(got, [[1, 'out'], [2, 'err'], [1, '']]);
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-[,ctrl-@,ctrl-_')], [97, 27, 0, 31]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Invalid detach keys/);
});

test('--restart as Docker parses it', () => {
  assert.deepEqual(parseRestartPolicy(undefined), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('always:2'), /maximum retry count can only be used with 'on-failure'/);
  assert.throws(() => parseRestartPolicy('on-failure:-1'), /can not be negative/);
  assert.throws(() => parseRestartPolicy('on-failure:x'), /must be an integer/);
  assert.throws(() => parseRestartPolicy('never'), /unknown policy 'never'/);
});

test('--log-driver/--log-opt and max-size units (binary, as go-units RAMInBytes)', () => {
  assert.equal(parseSize('10m'), 10 * 1024 * 1024);
  assert.equal(parseSize('1k'), 1024);
  assert.equal(parseSize('2KiB'), 2048);
  assert.equal(parseSize('512'), 512);
  assert.throws(() => parseSize('ten'));
  assert.deepEqual(parseLogConfig(undefined, ['max-size=10m', 'max-file=3']), { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(parseLogConfig('none', []), { Type: 'none', Config: {} });
  assert.throws(() => parseLogConfig('journald', []), /log driver "journald" is not supported/);
  assert.throws(() => parseLogConfig(undefined, ['labels=a']), /unknown log opt 'labels' for json-file log driver/);
  assert.throws(() => parseLogConfig(undefined, ['max-file=0']), /max-file cannot be less than 1/);
  assert.throws(() => parseLogConfig('none', ['max-size=1m']), /unknown log opt 'max-size' for none log driver/);
});

test('health options over the image HEALTHCHECK (Docker merge rules)', () => {
  const img = { Test: ['CMD', 'check'], Interval: 5e9, Retries: 4 };
  assert.deepEqual(mergeHealthcheck(img, { none: false }), img);
  assert.deepEqual(mergeHealthcheck(img, { none: true }), { Test: ['NONE'] });
  assert.deepEqual(mergeHealthcheck(img, { none: false, interval: '1s' }), { Test: ['CMD', 'check'], Interval: 1e9, Retries: 4 });
  assert.deepEqual(mergeHealthcheck(undefined, { none: false, cmd: 'curl x', timeout: '500ms', retries: 2 }), {
    Test: ['CMD-SHELL', 'curl x'], Timeout: 5e8, Retries: 2,
  });
  assert.equal(mergeHealthcheck(undefined, { none: false }), undefined);
  assert.throws(() => mergeHealthcheck(img, { none: true, cmd: 'x' }), /--no-healthcheck conflicts with --health-\* options/);
  assert.throws(() => mergeHealthcheck(img, { none: false, interval: '-1s' }), /--health-interval cannot be negative/);
  assert.throws(() => mergeHealthcheck(img, { none: false, interval: 'often' }), /invalid duration "often"/);
});
