/**
 * Kubernetes quantities (apimachinery's resource.Quantity) and the unit conversions between Docker's
 * inspect fields and Kubernetes' fields: memory bytes ↔ `64Mi`, NanoCpus ↔ `1500m`, Docker's
 * nanosecond durations ↔ whole seconds.
 *
 * Grammar (resource.ParseQuantity): a signed decimal number (`1`, `1.5`, `.5`, `1.`) and one suffix:
 * binary SI `Ki Mi Gi Ti Pi Ei`, decimal SI `n u m k M G T P E` (or none), or an exponent `e3`/`E-2`.
 */

export const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

export function isQuantity(s: string): boolean {
  return QUANTITY.test(s);
}

/** The value of a quantity (a number or a quantity string); undefined when it is not one. */
export function quantityValue(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix === '') return n;
  if (suffix[0] === 'e' || suffix[0] === 'E') return n * 10 ** Number(suffix.slice(1));
  return n * MULTIPLIERS[suffix]!;
}

/** Bytes → the shortest exact quantity: `64Mi`, `1G`, `1500` (binary units first, as Docker's sizes are). */
export function memoryQuantity(bytes: number): string {
  if (bytes > 0) {
    for (const s of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) if (bytes % MULTIPLIERS[s]! === 0) return `${bytes / MULTIPLIERS[s]!}${s}`;
    for (const s of ['E', 'P', 'T', 'G', 'M', 'k']) if (bytes % MULTIPLIERS[s]! === 0) return `${bytes / MULTIPLIERS[s]!}${s}`;
  }
  return String(bytes);
}

/**
 * Docker's NanoCpus → a CPU quantity. Kubernetes does not keep precision below 1m (the API server rounds
 * up to it), so neither do we: 1 ns of CPU becomes `1m`. Whole CPUs are written as integers (`2`).
 */
export function cpuQuantity(nanoCpus: number): string {
  const milli = Math.ceil(nanoCpus / 1e6);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** A memory quantity → bytes (fractions of a byte round up, as Quantity.Value()). */
export function quantityBytes(q: string | number): number | undefined {
  const v = quantityValue(q);
  return v === undefined ? undefined : Math.ceil(v);
}

/** A CPU quantity → Docker's NanoCpus. */
export function quantityNanoCpus(q: string | number): number | undefined {
  const v = quantityValue(q);
  return v === undefined ? undefined : Math.round(v * 1e9);
}

/**
 * Docker's nanosecond durations → Kubernetes' whole seconds: rounded UP (a probe never gets less time
 * than its timeout, nor runs more often than its interval), at least `min`.
 */
export function nsToSeconds(ns: number, min: number): number {
  return Math.max(min, Math.ceil(ns / 1e9));
}

export function secondsToNs(s: number): number {
  return s * 1e9;
}
