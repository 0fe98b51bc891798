/**
 * Platforms (`linux/arm64/v8`): the host's, one given with --platform, and the choice of a manifest
 * from an index (containerd's variant rules).
 */
import { SkiffError } from '../errors.js';
import { MANIFEST_TYPES, type Descriptor, type Index } from './media.js';

export interface PlatformSpec {
  os: string;
  arch: string;
  variant?: string;
}

/** GOARCH names for what Node, uname and users say. */
function normalizeArch(arch: string, variant?: string): { arch: string; variant: string | undefined } {
  const a = arch.toLowerCase();
  let v = variant?.toLowerCase() || undefined;
  switch (a) {
    case 'x86_64': case 'x86-64': case 'x64': case 'amd64':
      return { arch: 'amd64', variant: v === 'v1' ? undefined : v };
    case 'i386': case 'i686': case 'ia32': case '386':
      return { arch: '386', variant: v };
    case 'aarch64': case 'arm64':
      return { arch: 'arm64', variant: v === undefined || v === '8' ? 'v8' : v };
    case 'armhf': return { arch: 'arm', variant: 'v7' };
    case 'armel': return { arch: 'arm', variant: 'v6' };
    case 'arm': case 'armv7l': case 'armv7':
      if (v && /^\d$/.test(v)) v = `v${v}`;
      return { arch: 'arm', variant: v ?? 'v7' };
    case 'armv6l': case 'armv6': return { arch: 'arm', variant: 'v6' };
    case 'ppc64el': return { arch: 'ppc64le', variant: v };
    default:
      return { arch: a, variant: v };
  }
}

/** The platform this process runs on, as an image index names it. */
export function hostPlatform(): PlatformSpec {
  const { arch, variant } = normalizeArch(process.arch);
  return { os: 'linux', arch, ...(variant && arch !== 'arm64' ? { variant } : {}) };
}

/** `linux/arm64/v8`, `linux/amd64`, `arm64` (os defaults to linux) → a PlatformSpec. */
export function parsePlatform(s: string | undefined): PlatformSpec {
  if (!s) return hostPlatform();
  const parts = s.trim().split('/');
  if (parts.length > 3 || parts.some((p) => !p)) {
    throw new SkiffError('EINVAL', `invalid platform "${s}": use os/arch[/variant], e.g. linux/arm64`);
  }
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0]!, undefined] : [parts[0]!.toLowerCase(), parts[1]!, parts[2]];
  return { os, arch, ...(variant ? { variant } : {}) };
}

/** Whether an image config's os/architecture/variant is the platform asked for (arch names and default variants normalised). */
export function platformMatches(want: PlatformSpec, have: { os?: string; architecture?: string; variant?: string }): boolean {
  const w = normalizeArch(want.arch, want.variant);
  const h = normalizeArch(have.architecture ?? '', have.variant);
  return (have.os ?? 'linux') === want.os && w.arch === h.arch && (want.variant === undefined || w.variant === h.variant);
}

export const formatPlatform = (p: { os: string; architecture?: string; arch?: string; variant?: string }): string =>
  `${p.os}/${p.architecture ?? p.arch}${p.variant ? `/${p.variant}` : ''}`;

/** Variants a platform can run, best first (containerd's rules: arm v7 runs v6 and v5; arm64 v8 only). */
function acceptableVariants(arch: string, variant: string | undefined, explicit: boolean): (string | undefined)[] {
  if (arch === 'arm') {
    const n = Number((variant ?? 'v7').slice(1)) || 7;
    return Array.from({ length: n - 4 }, (_, i) => `v${n - i}`);
  }
  if (arch === 'amd64') {
    if (explicit && variant) {
      const n = Number(variant.slice(1)) || 1;
      return [...Array.from({ length: n - 1 }, (_, i) => `v${n - i}`), undefined];
    }
    return [undefined];
  }
  return [variant];
}

/**
 * Pick the manifest for a platform from an index: linux/<host arch> by default; arm64 means v8,
 * arm means v7 (falling back to v6, v5), amd64 means the baseline. Entries that are not image
 * manifests (attestations, nested indexes, artifacts) are never chosen.
 */
export function selectPlatform(index: Index, want: PlatformSpec = hostPlatform()): Descriptor {
  const w = normalizeArch(want.arch, want.variant);
  const variants = acceptableVariants(w.arch, w.variant, want.variant !== undefined);
  const images = index.manifests.filter((m) => MANIFEST_TYPES.has(m.mediaType) && m.platform);
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const m of images) {
    const p = m.platform!;
    if (p.os.toLowerCase() !== want.os.toLowerCase()) continue;
    const have = normalizeArch(p.architecture, p.variant);
    if (have.arch !== w.arch) continue;
    const rank = variants.indexOf(have.variant);
    if (rank >= 0 && rank < bestRank) [best, bestRank] = [m, rank];
  }
  if (best) return best;
  // An index without platforms (some single-image OCI layouts) has one obvious choice.
  if (index.manifests.length === 1 && !index.manifests[0]!.platform && MANIFEST_TYPES.has(index.manifests[0]!.mediaType)) return index.manifests[0]!;
  const have = images.map((m) => formatPlatform(m.platform!)).join(', ') || 'none';
  const asked = formatPlatform({ os: want.os, arch: w.arch, ...(w.variant && (want.variant || w.arch === 'arm') ? { variant: w.variant } : {}) });
  throw new SkiffError('ENOIMAGE', `no image found in manifest list for platform ${asked} (available: ${have}): choose one with --platform`);
}
