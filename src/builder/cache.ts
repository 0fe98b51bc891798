/**
 * Cache keys of build steps. A step's key covers its parent's key (so the whole chain down to the
 * base image id), the instruction after ARG/ENV expansion with everything that changes its
 * result (environment, user, working directory, shell, network), and for COPY/ADD the content of
 * the sources (see context.ts hashSources: bytes and modes, not mtimes).
 */
import crypto from 'node:crypto';
import type { Command } from './dockerfile/instructions.js';

/** Canonical JSON: object keys sorted, so equal values always give the same text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function baseKey(base: { scratch: true } | { imageId: string } | { stageKey: string }): string {
  const what = 'scratch' in base ? 'scratch' : 'imageId' in base ? `image ${base.imageId}` : `stage ${base.stageKey}`;
  return 'sha256:' + crypto.createHash('sha256').update(`skiff-build-v1 base ${what}`).digest('hex');
}

export function stepKey(parent: string, step: Record<string, unknown>): string {
  return 'sha256:' + crypto.createHash('sha256').update(`${parent}\n${canonicalJson(step)}`).digest('hex');
}

/**
 * What an instruction that changes only the config (or ARGs) puts in its step's key: its arguments
 * after expansion, not where it stands in the file or how it is spelled. With the parent key (which
 * stands for everything before it) that decides the config after it.
 */
export function instructionStep(cmd: Command): Record<string, unknown> {
  const { name: _name, code: _code, location: _location, comments: _comments, ...args } = cmd;
  return args;
}
