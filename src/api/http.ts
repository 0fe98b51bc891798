/**
 * What every handler of the Engine API needs: the request's query and JSON body (bounded), replies
 * in Docker's JSON shapes, errors as `{"message": ...}` with Docker's status codes, and the
 * multiplexed stream's frames.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError, SkiffError, type ErrorCode } from '../errors.js';

/** A client error the service answers with a status (400 for a malformed request). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Request bodies larger than this are refused (413) without being read whole. */
export const MAX_JSON_BODY = 4 << 20;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  ENOIMAGE: 404, ENOCONTAINER: 404, ENOVOLUME: 404, ENONETWORK: 404,
  EINVAL: 400, ECONFLICT: 409, ESTATE: 409, EAUTH: 401,
};

/** Docker's status for a failure: 404 no such object, 409 conflict/state, 400 bad input, else 500. */
export function statusOf(e: unknown): number {
  if (e instanceof ApiError) return e.status;
  if (e instanceof SkiffError) {
    if (/^No such (container|image)/i.test(e.message)) return 404;
    return STATUS_OF[e.code] ?? 500;
  }
  return 500;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  const message = describeError(e);
  if (res.headersSent) {
    // a streamed reply: Docker puts the error into the stream as a JSON message
    if (!res.writableEnded) res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
    return;
  }
  const status = statusOf(e);
  if (status === 413) res.shouldKeepAlive = false; // the rest of the body is never read
  sendJson(res, status, { message });
}

export function noContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/**
 * The bodies of upgrade requests (exec start with `Upgrade: tcp`): Node hands them over with the
 * upgraded connection's first bytes, not as the request's stream; the server takes them off first.
 */
const upgradeBodies = new WeakMap<IncomingMessage, Buffer>();
export const setUpgradeBody = (req: IncomingMessage, body: Buffer): void => void upgradeBodies.set(req, body);

/** The request's body as JSON (an empty body is `{}`); 400 for anything else, 413 beyond MAX_JSON_BODY. */
export async function readJson<T = Record<string, unknown>>(req: IncomingMessage): Promise<T> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_JSON_BODY) throw new ApiError(413, `request body larger than ${MAX_JSON_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  const upgraded = upgradeBodies.get(req);
  if (upgraded) chunks.push(upgraded);
  else {
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_JSON_BODY) throw new ApiError(413, `request body larger than ${MAX_JSON_BODY} bytes`);
      chunks.push(c);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {} as T;
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as T;
  } catch (e) {
    throw new ApiError(400, `invalid JSON in the request body: ${(e as Error).message}`);
  }
}

/** Docker's boolean query values: 1/true/True (absent: `dflt`). */
export function queryBool(q: URLSearchParams, key: string, dflt = false): boolean {
  const v = q.get(key);
  if (v === null || v === '') return dflt;
  return /^(1|true|yes)$/i.test(v);
}

export function queryInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new ApiError(400, `invalid value for ${key}: ${JSON.stringify(v)}`);
  return Number(v);
}

/** A resize's `h` and `w` (0 when absent); 400 for a size no terminal has. */
export function querySize(q: URLSearchParams): [number, number] {
  const [h, w] = [queryInt(q, 'h') ?? 0, queryInt(q, 'w') ?? 0];
  if (h < 0 || w < 0 || h > 65535 || w > 65535) throw new ApiError(400, `invalid size ${h}x${w}`);
  return [h, w];
}

/** A query value holding JSON, parsed (undefined when absent or empty); 400 when it is no JSON. */
export function queryJson(q: URLSearchParams, key: string): unknown {
  const raw = q.get(key);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ApiError(400, `invalid ${key}: ${raw}`);
  }
}

/**
 * `filters={"key":["v"]}` or `{"key":{"v":true}}` (both shapes Docker accepts) → ["key=v", ...],
 * the CLI's --filter form the domain functions take.
 */
export function queryFilters(q: URLSearchParams): string[] {
  const v = queryJson(q, 'filters');
  if (v === undefined) return [];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, `invalid filters: ${q.get('filters')!}`);
  const out: string[] = [];
  for (const [k, vals] of Object.entries(v as Record<string, unknown>)) {
    const list = Array.isArray(vals) ? vals : vals && typeof vals === 'object' ? Object.keys(vals) : [];
    for (const x of list) out.push(`${k}=${String(x)}`);
  }
  return out;
}

/** One frame of Docker's multiplexed stream: [stream, 0, 0, 0, size BE32] + bytes. */
export function frame(stream: 0 | 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}
