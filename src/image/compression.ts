/**
 * Layer decompression chosen by the stream's magic bytes (media types are not always honest):
 * gzip (1f 8b) with node:zlib, zstd (28 b5 2f fd) with the pure-JS `fzstd` package — Node 20's
 * zlib has no zstd — and anything else passed through as a plain tar.
 */
import zlib from 'node:zlib';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';

class ZstdStream extends Transform {
  private readonly d: Decompress;
  constructor() {
    super();
    this.d = new Decompress((chunk) => {
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

/** Returns a readable of the uncompressed bytes; errors of `input` are forwarded. */
export function decompressStream(_mediaType: string, input: Readable): Readable {
  const out = new PassThrough();
  let decided = false;
  let head = Buffer.alloc(0);
  const decide = (): void => {
    decided = true;
    let dec: Transform | PassThrough;
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) dec = zlib.createGunzip({ chunkSize: 256 * 1024 });
    else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) dec = new ZstdStream();
    else dec = new PassThrough();
    dec.on('error', (e) => out.destroy(e));
    dec.pipe(out);
    dec.write(head);
    input.on('data', (c: Buffer) => {
      if (!dec.write(c)) {
        input.pause();
        dec.once('drain', () => input.resume());
      }
    });
    input.on('end', () => dec.end());
  };
  input.on('error', (e) => out.destroy(e));
  const onData = (c: Buffer): void => {
    head = Buffer.concat([head, c]);
    if (head.length >= 4) {
      input.off('data', onData);
      input.off('end', onEnd);
      decide();
    }
  };
  const onEnd = (): void => {
    if (!decided) {
      decide();
      input.emit('end');
    }
  };
  input.on('data', onData);
  input.on('end', onEnd);
  return out;
}
