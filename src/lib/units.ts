/**
 * Sizes and durations exactly as Docker prints and parses them (docker/go-units), plus Go's float
 * formatting (`%e %f %g`), which both `humanSize` and the `--format` template engine need.
 */
import { SkiffError } from '../errors.js';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** The exact decimal expansion of a positive finite double: value = 0.<digits> × 10^dp. */
function exactDigits(a: number): { digits: string; dp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e2 = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  if (e2 >= 0) {
    const d = (mant << BigInt(e2)).toString();
    return { digits: d.replace(/0+$/, ''), dp: d.length };
  }
  const d = (mant * 5n ** BigInt(-e2)).toString(); // value = d / 10^-e2
  return { digits: d.replace(/0+$/, ''), dp: d.length + e2 };
}

/** Keep `nd` digits, rounding like Go's strconv: up past half, exact halves to even. */
function roundTo(d: { digits: string; dp: number }, nd: number): { digits: string; dp: number } {
  const { digits } = d;
  if (nd >= digits.length) return d;
  if (nd < 0) return { digits: '', dp: d.dp };
  const next = digits[nd]!;
  const up = next > '5' || (next === '5' && (nd + 1 < digits.length || (nd > 0 && Number(digits[nd - 1]) % 2 === 1)));
  let kept = digits.slice(0, nd);
  if (!up) return { digits: kept.replace(/0+$/, ''), dp: d.dp };
  let i = kept.length - 1;
  while (i >= 0 && kept[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  kept = kept.slice(0, i) + String(Number(kept[i]) + 1);
  return { digits: kept, dp: d.dp };
}

/**
 * Go's `strconv.FormatFloat(x, fmt, prec, 64)` for fmt `e`, `f` and `g`, rounding exactly as Go does.
 * `prec < 0` is the shortest form that reads back as `x`; for `g` the exponent form is then used
 * from 1e+06 (as `fmt.Print` of a float64 shows). `g` drops trailing zeros; exponents have at
 * least two digits.
 */
export function formatFloat(x: number, fmt: 'e' | 'f' | 'g', prec = -1): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  let d: { digits: string; dp: number };
  if (a === 0) d = { digits: '', dp: 0 };
  else if (prec < 0) {
    const [m, e] = a.toExponential().split('e') as [string, string];
    d = { digits: m.replace('.', '').replace(/0+$/, ''), dp: Number(e) + 1 };
  } else {
    const exact = exactDigits(a);
    const nd = fmt === 'e' ? prec + 1 : fmt === 'f' ? exact.dp + prec : Math.max(prec, 1);
    d = roundTo(exact, nd);
  }
  const expForm = (decimals: number): string => {
    const exp = d.digits === '' ? 0 : d.dp - 1;
    const ds = (d.digits || '0').padEnd(decimals + 1, '0');
    return `${ds[0]}${decimals > 0 ? `.${ds.slice(1, decimals + 1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  };
  const fixedForm = (decimals: number): string => {
    const ds = d.digits;
    const int = d.dp > 0 ? ds.slice(0, d.dp).padEnd(d.dp, '0') : '0';
    let frac = '';
    for (let i = 0; i < decimals; i++) {
      const j = d.dp + i;
      frac += j >= 0 && j < ds.length ? ds[j] : '0';
    }
    return decimals > 0 ? `${int}.${frac}` : int;
  };
  const nd = d.digits.length;
  if (fmt === 'e') return sign + expForm(prec < 0 ? Math.max(nd - 1, 0) : prec);
  if (fmt === 'f') return sign + fixedForm(prec < 0 ? Math.max(nd - d.dp, 0) : prec);
  const eprec = prec < 0 ? 6 : Math.max(prec, 1);
  const exp = d.dp - 1;
  if (nd > 0 && (exp < -4 || exp >= eprec)) return sign + expForm(Math.max(nd - 1, 0));
  return sign + fixedForm(Math.max(nd - d.dp, 0));
}

/** Go's `%g` / `strconv.FormatFloat(x, 'g', prec, 64)`; `prec < 0` is the shortest form. */
export const formatFloatG = (x: number, prec = -1): string => formatFloat(x, 'g', prec);

function scaled(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

/**
 * go-units `HumanSizeWithPrecision`: decimal units, `precision` significant digits (`%.*g`).
 * Docker's `images`, `ps -s` and `history` use precision 3 (`5.58kB`, `1.98MB`, `742B`);
 * progress bars and `system df` use `HumanSize`, precision 4.
 */
export function humanSize(bytes: number, precision = 3): string {
  const [n, unit] = scaled(bytes, 1000, DECIMAL);
  return formatFloatG(n, precision) + unit;
}

/** go-units `BytesSize`: binary units, `%.4g` (`1.5MiB`, `7.629GiB`), as `docker stats` prints memory. */
export function bytesSize(bytes: number): string {
  const [n, unit] = scaled(bytes, 1024, BINARY);
  return formatFloatG(n, 4) + unit;
}

/** go-units `HumanDuration`: "Less than a second", "About a minute", "3 hours", "2 weeks", ... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000); // time.Duration.Round(time.Hour)
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** Docker's "CREATED" column: `HumanDuration(now - t) + " ago"`; "N/A" for an unparseable time. */
export function createdSince(when: Date | string | number, now: number = Date.now()): string {
  const t = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(when);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

const MULTIPLIER: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

function parseWith(text: string, base: number): number {
  // The number ends at the last digit, dot or space; an optional single space separates the unit.
  let sep = -1;
  for (let i = text.length - 1; i >= 0; i--) {
    if (/[0-9. ]/.test(text[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep < 0) throw new SkiffError('EINVAL', `invalid size: '${text}'`);
  const num = text[sep] === ' ' ? text.slice(0, sep) : text.slice(0, sep + 1);
  let sfx = text.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) {
    throw new SkiffError('EINVAL', `invalid size: '${text}'`);
  }
  let size = Number(num);
  if (size < 0) throw new SkiffError('EINVAL', `invalid size: '${text}'`);
  if (sfx === '') return Math.trunc(size);
  const bad = (): SkiffError => new SkiffError('EINVAL', `invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const power = MULTIPLIER[sfx[0]!];
  if (power === undefined) throw bad();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  size *= base ** power;
  return Math.trunc(size);
}

/**
 * go-units `RAMInBytes`, used for `--memory`, `--shm-size`, `--log-opt max-size`: `10m`, `1.5g`,
 * `512k`, `100` (bytes), `2 GiB`; units are case-insensitive and always binary (k = 1024).
 */
export const parseSize = (text: string): number => parseWith(text, 1024);

/** go-units `FromHumanSize`: the same syntax with decimal units (k = 1000). */
export const parseHumanSize = (text: string): number => parseWith(text, 1000);

/** Go's time.Time.String() of a UTC time, as Docker prints CreatedAt in listings: `2026-12-05 21:22:13 +0000 UTC`. */
export function goTimeString(when: Date | string): string {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');
}

/** Go's time.RFC3339 of a UTC time (whole seconds): `2026-12-05T21:22:13Z`. */
export function rfc3339Seconds(when: Date | string): string {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The time in ms of a goTimeString text (NaN if it is none). */
export function goTimeMs(text: string): number {
  return Date.parse(text.replace(' +0000 UTC', 'Z').replace(' ', 'T'));
}
