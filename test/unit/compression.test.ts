import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../../src/errors.js';
import { decompressStream, detectCompression } from '../../src/image/compression.js';

const hasZstd = fs.existsSync('/usr/bin/zstd');

function payload(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = i % 3 === 0 ? x & 0xff : 97 + (i % 7);
  }
  return b;
}

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** Feed `data` in small pieces, to exercise the 4-byte sniffing across chunk boundaries. */
function pieces(data: Buffer, size = 3): Readable {
  return Readable.from((function* () { for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size); })());
}

const zstd = (data: Buffer, ...args: string[]): Buffer => execFileSync('zstd', ['-q', '-c', ...args], { input: data });

test('magic bytes decide the compression', () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18])), 'zstd');
  assert.equal(detectCompression(Buffer.from('ustar')), 'none');
  assert.equal(detectCompression(Buffer.from([0x28])), 'none');
});

test('gzip, plain and empty inputs', async () => {
  const data = payload(300_000);
  assert.deepEqual(await collect(decompressStream('application/vnd.oci.image.layer.v1.tar+gzip', pieces(zlib.gzipSync(data), 1000))), data);
  // The media type is only a hint: plain bytes labelled gzip come out as they are.
  assert.deepEqual(await collect(decompressStream('application/vnd.oci.image.layer.v1.tar+gzip', pieces(data, 7777))), data);
  assert.deepEqual(await collect(decompressStream('', Readable.from([]))), Buffer.alloc(0));
  assert.deepEqual(await collect(decompressStream('', Readable.from([Buffer.from('ab')]))), Buffer.from('ab'));
  // Concatenated gzip members (pigz, some layer tools) are one stream.
  const two = Buffer.concat([zlib.gzipSync(data.subarray(0, 1000)), zlib.gzipSync(data.subarray(1000))]);
  assert.deepEqual(await collect(decompressStream('', pieces(two, 4096))), data);
});

test('gzip (ISA-L) agrees with node:zlib byte for byte and error for error, at any chunking', async () => {
  const data = payload(6000); // small: 1-byte chunks are one thread-pool job each
  const gz = zlib.gzipSync(data);
  const members = Buffer.concat([zlib.gzipSync(data.subarray(0, 5)), zlib.gzipSync(Buffer.alloc(0)), zlib.gzipSync(data.subarray(5))]);
  const badCrc = Buffer.from(gz);
  badCrc[gz.length - 6]! ^= 1; // CRC-32 in the trailer
  const badSize = Buffer.from(gz);
  badSize[gz.length - 1]! ^= 1; // ISIZE
  const cases: [string, Buffer][] = [
    ['one member', gz],
    ['three members, one empty', members],
    ['data after the member', Buffer.concat([gz, Buffer.from('trailing')])],
    ['a lone 0x1f after the member', Buffer.concat([gz, Buffer.from([0x1f])])],
    ['trailer CRC wrong', badCrc],
    ['trailer size wrong', badSize],
    ['cut inside the trailer', gz.subarray(0, gz.length - 3)],
    ['header only', gz.subarray(0, 10)],
  ];
  const result = async (b: Buffer, size: number): Promise<string> => {
    try {
      return `ok ${(await collect(decompressStream('', pieces(b, size)))).toString('base64').slice(0, 64)} ${b.length}`;
    } catch (e) {
      return `error ${(e as Error).message.replace(/^layer is not valid gzip data: /, '')}`;
    }
  };
  for (const [what, b] of cases) {
    let want: string;
    try {
      want = `ok ${zlib.gunzipSync(b).toString('base64').slice(0, 64)} ${b.length}`;
    } catch (e) {
      // ISA-L reports a wrong trailer size as a failed check, as it does a wrong CRC
      want = `error ${(e as Error).message.replace('incorrect length check', 'incorrect data check')}`;
    }
    for (const size of [1, 4, 4096, 1 << 20]) assert.equal(await result(b, size), want, `${what}, ${size}-byte chunks`);
  }
});

test('zstd, including several frames and a skippable frame', { skip: !hasZstd && 'zstd(1) is not installed' }, async () => {
  const data = payload(1_000_000);
  assert.deepEqual(await collect(decompressStream('application/vnd.oci.image.layer.v1.tar+zstd', pieces(zstd(data), 5000))), data);
  assert.deepEqual(await collect(decompressStream('', pieces(zstd(data, '-19'), 3))), data);
  const frames = Buffer.concat([zstd(data.subarray(0, 4000)), zstd(data.subarray(4000))]);
  assert.deepEqual(await collect(decompressStream('', pieces(frames, 65536))), data);
  const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]), zstd(data)]);
  assert.deepEqual(await collect(decompressStream('', pieces(skippable, 65536))), data);
});

test('corrupt or truncated data fails with EDIGEST naming the layer', async () => {
  const data = payload(100_000);
  const gz = zlib.gzipSync(data);
  await assert.rejects(collect(decompressStream('', Readable.from([gz.subarray(0, gz.length - 100)]), 'layer sha256:abc')),
    (e: unknown) => e instanceof SkiffError && e.code === 'EDIGEST' && /^layer sha256:abc is not valid gzip data: /.test(e.message));
  const broken = Buffer.from(gz);
  broken.fill(0x55, 100, 200);
  await assert.rejects(collect(decompressStream('', Readable.from([broken]))), /is not valid gzip data/);
  if (hasZstd) {
    const z = zstd(data);
    await assert.rejects(collect(decompressStream('', Readable.from([z.subarray(0, z.length - 10)]), 'layer z')),
      (e: unknown) => e instanceof SkiffError && e.code === 'EDIGEST' && /^layer z is not valid zstd data: /.test(e.message));
  }
});

test('errors of the input come out; destroying the output destroys the input', async () => {
  const input = new PassThrough();
  const out = decompressStream('', input);
  input.write(zlib.gzipSync(payload(1000)));
  input.destroy(new Error('network gone'));
  await assert.rejects(collect(out), /network gone/);

  const src = new PassThrough();
  const out2 = decompressStream('', src);
  src.write(Buffer.from('plain data here'));
  out2.destroy();
  await new Promise((r) => setImmediate(r));
  assert.ok(src.destroyed);
});

test('backpressure: a slow reader does not make the whole input buffer', async () => {
  const data = payload(8 * 1024 * 1024);
  const gz = zlib.gzipSync(data, { level: 1 });
  let fed = 0;
  let maxAhead = 0;
  let consumed = 0;
  const src = Readable.from((function* () {
    for (let i = 0; i < gz.length; i += 16384) {
      fed += Math.min(16384, gz.length - i);
      yield gz.subarray(i, i + 16384);
    }
  })());
  await pipeline(decompressStream('', src), new Writable({
    highWaterMark: 16384,
    write(c: Buffer, _e, cb) {
      consumed += c.length;
      // compressed bytes read ahead of what the reader has taken (as a fraction of the input)
      maxAhead = Math.max(maxAhead, fed / gz.length - consumed / data.length);
      setImmediate(cb);
    },
  }));
  assert.equal(consumed, data.length);
  assert.ok(maxAhead < 0.5, `read ${Math.round(maxAhead * 100)}% of the input ahead of the reader`);
});

test('the decompression bound: gzip and zstd that inflate beyond 1 GiB + 100x their size fail, in bounded memory', async () => {
  const { gzipBomb, zstdBomb } = await import('../adversarial/gen.js');
  const bombs: [string, Buffer][] = [
    ['gzip', gzipBomb(Buffer.alloc(0), 1 << 20, 1200, Buffer.alloc(0))],
    ['zstd', zstdBomb(Buffer.alloc(0), 0, 1200 * (1 << 20), Buffer.alloc(0))],
  ];
  for (const [kind, bomb] of bombs) {
    let seen = 0;
    let rssPeak = 0;
    await assert.rejects(
      pipeline(decompressStream('', Readable.from([bomb]), 'the bomb'), new Writable({
        write(c: Buffer, _e, cb) {
          seen += c.length;
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          cb();
        },
      })),
      (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL' &&
        e.message === 'the bomb inflates to more than 100 times its compressed size plus 1024 MiB: refused as a possible decompression bomb',
      kind,
    );
    assert.ok(seen <= 1024 * 1024 * 1024 + 100 * bomb.length, `${kind}: ${seen} bytes came out`);
    assert.ok(rssPeak < 600 * 1024 * 1024, `${kind}: ${rssPeak} bytes of memory`);
  }
});
