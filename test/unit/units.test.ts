import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, createdSince, formatFloat, formatFloatG, humanDuration, humanSize, parseHumanSize, parseSize } from '../../src/lib/units.js';
import { createProgress, progressBar } from '../../src/cli/output/progress.js';
import { SkiffError } from '../../src/errors.js';

test('formatFloatG is Go %g', () => {
  assert.equal(formatFloatG(1e6), '1e+06');
  assert.equal(formatFloatG(123456), '123456');
  assert.equal(formatFloatG(0.0001), '0.0001');
  assert.equal(formatFloatG(0.00001), '1e-05');
  assert.equal(formatFloatG(1234567.5), '1.2345675e+06');
  assert.equal(formatFloatG(-2.5), '-2.5');
  assert.equal(formatFloatG(0), '0');
  assert.equal(formatFloatG(Infinity), '+Inf');
  assert.equal(formatFloatG(100, 3), '100');
  assert.equal(formatFloatG(1.5, 3), '1.5');
  assert.equal(formatFloatG(999.999, 3), '1e+03');
  assert.equal(formatFloatG(1e-7, 3), '1e-07');
});

test('humanSize is go-units HumanSizeWithPrecision(…, 3) by default', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(742), '742B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(5580), '5.58kB');
  assert.equal(humanSize(1982256), '1.98MB');
  assert.equal(humanSize(4_261_000), '4.26MB');
  assert.equal(humanSize(77_800_000_000), '77.8GB');
  assert.equal(humanSize(999_999), '1e+03kB'); // go-units really prints this
  assert.equal(humanSize(1234567, 4), '1.235MB');
});

test('bytesSize is go-units BytesSize (binary, 4 digits)', () => {
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1.5 * 1024 * 1024), '1.5MiB');
  assert.equal(bytesSize(8_192_000_000), '7.629GiB');
});

test('humanDuration is go-units HumanDuration', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [0, 'Less than a second'], [999, 'Less than a second'], [-5 * s, 'Less than a second'], [s, '1 second'],
    [30 * s, '30 seconds'], [59 * s, '59 seconds'], [m, 'About a minute'], [119 * s, 'About a minute'],
    [2 * m, '2 minutes'], [59 * m, '59 minutes'], [60 * m, 'About an hour'], [89 * m, 'About an hour'],
    [90 * m, '2 hours'], [3 * h, '3 hours'], [47 * h, '47 hours'], [48 * h, '2 days'], [13 * d, '13 days'],
    [14 * d, '2 weeks'], [59 * d, '8 weeks'], [60 * d, '2 months'], [729 * d, '24 months'], [730 * d, '2 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
  const now = Date.UTC(2024, 0, 10);
  assert.equal(createdSince(new Date(now - 3 * m), now), '3 minutes ago');
  assert.equal(createdSince(new Date(now - 3 * m).toISOString(), now), '3 minutes ago');
  assert.equal(createdSince('garbage', now), 'N/A');
});

test('parseSize is go-units RAMInBytes; parseHumanSize is FromHumanSize', () => {
  assert.equal(parseSize('10m'), 10 * 1024 ** 2);
  assert.equal(parseSize('10M'), 10 * 1024 ** 2);
  assert.equal(parseSize('10mb'), 10 * 1024 ** 2);
  assert.equal(parseSize('1g'), 1024 ** 3);
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('512k'), 512 * 1024);
  assert.equal(parseSize('2 GiB'), 2 * 1024 ** 3);
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('100b'), 100);
  assert.equal(parseHumanSize('10MB'), 10_000_000);
  assert.equal(parseHumanSize('1kb'), 1000);
  const bad = (text: string, re: RegExp): void => {
    assert.throws(() => parseSize(text), (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL' && re.test(e.message));
  };
  bad('ten', /invalid size: 'ten'/);
  bad('-1', /invalid size: '-1'/);
  bad('10x', /invalid suffix: 'x'/);
  bad('10mbb', /invalid suffix: 'mbb'/);
  bad('10bb', /invalid suffix: 'bb'/);
  bad('10kx', /invalid suffix: 'kx'/);
  bad('1..5m', /invalid size/);
});

// progress.ts formats sizes with go-units too; its output is checked here.
function fakeStream(isTTY: boolean, columns?: number): { stream: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const stream = { isTTY, columns, write: (s: string) => ((buf += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => buf };
}

test('progress bar matches docker pull', () => {
  assert.equal(progressBar(1_234_000, 5_678_000), `[${'='.repeat(10)}>${' '.repeat(40)}]  1.234MB/5.678MB`);
  assert.equal(progressBar(1_234_000, 5_678_000, 80), ' 1.234MB/5.678MB');
  assert.equal(progressBar(500, undefined), '    500B');
  assert.equal(progressBar(0, 0), '');
});

test('progress: plain lines on state changes when not a TTY, cursor redraws on a TTY', () => {
  const plain = fakeStream(false);
  const p = createProgress(plain.stream);
  p.line('latest: Pulling from library/busybox');
  p.update('a46fbb00284b', 'Pulling fs layer');
  p.update('a46fbb00284b', 'Downloading', 10, 100);
  p.update('a46fbb00284b', 'Downloading', 100, 100);
  p.update('a46fbb00284b', 'Pull complete');
  p.update('a46fbb00284b', 'Pull complete');
  p.done();
  assert.equal(plain.text(), 'latest: Pulling from library/busybox\na46fbb00284b: Pulling fs layer\na46fbb00284b: Pull complete\n');

  const tty = fakeStream(true, 120);
  const q = createProgress(tty.stream, { interactive: true });
  q.update('aaaaaaaaaaaa', 'Pulling fs layer');
  q.update('bbbbbbbbbbbb', 'Already exists');
  q.update('aaaaaaaaaaaa', 'Pull complete');
  q.done();
  assert.equal(
    tty.text(),
    '\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Pulling fs layer\r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rbbbbbbbbbbbb: Already exists\r\x1b[1B' +
      '\x1b[2A\x1b[2K\raaaaaaaaaaaa: Pull complete\r\x1b[2B',
  );
  const quiet = fakeStream(true);
  const r = createProgress(quiet.stream, { quiet: true });
  r.update('x', 'Pull complete');
  r.line('Digest: x');
  assert.equal(quiet.text(), '');
});

test('float formatting rounds exact halves to even, as Go does', () => {
  assert.equal(formatFloat(2.25, 'f', 1), '2.2');
  assert.equal(formatFloat(2.35, 'f', 1), '2.4'); // 2.35 is 2.35000000000000008882: above half
  assert.equal(formatFloat(2.5, 'f', 0), '2');
  assert.equal(formatFloat(3.5, 'f', 0), '4');
  assert.equal(formatFloat(0.125, 'e', 1), '1.2e-01');
  assert.equal(formatFloat(1234.5678, 'e', 6), '1.234568e+03');
  assert.equal(formatFloat(99.96, 'f', 1), '100.0');
  assert.equal(formatFloat(0.000123, 'f', 3), '0.000');
  assert.equal(formatFloat(1e22, 'f', 2), '10000000000000000000000.00');
  assert.equal(formatFloat(-0.5, 'f', 0), '-0');
  assert.equal(formatFloat(0, 'e', 2), '0.00e+00');
  assert.equal(humanSize(10_250), '10.2kB');
  assert.equal(humanSize(1_125), '1.12kB');
});
