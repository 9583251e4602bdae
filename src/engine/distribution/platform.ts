/**
 * Platforms (`linux/arm64/v8`) and picking one manifest out of an index.
 *
 *   const d = selectPlatform(index, parsePlatform('linux/arm/v7'))
 */
import { NotFound, InvalidArgument } from '../../common/errors.js';
import type { Descriptor, ImageIndex, Platform } from './oci.js';

const archAliases: Record<string, string> = { x86_64: 'amd64', x86: '386', i386: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };

/** This machine's platform as an image platform (linux/amd64 here). */
export function defaultPlatform(): Platform {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  return normalizePlatform({ os: 'linux', architecture: arch });
}

/** Parses `os[/arch[/variant]]` as `--platform` takes it. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new InvalidArgument(`"${spec}": unknown operating system or architecture: invalid argument`);
  }
  const [os, architecture = defaultPlatform().architecture, variant] = parts;
  return normalizePlatform({ os, architecture, variant });
}

export function normalizePlatform(p: Platform): Platform {
  const architecture = archAliases[p.architecture] ?? p.architecture;
  let variant = p.variant || undefined;
  // Docker treats arm64 as arm64/v8 and arm as arm/v7 when no variant is named.
  if (architecture === 'arm64' && !variant) variant = 'v8';
  if (architecture === 'arm' && !variant) variant = 'v7';
  if (architecture === 'arm' && variant && /^\d$/.test(variant)) variant = `v${variant}`;
  return { ...p, os: p.os.toLowerCase(), architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * The index entry for `want`: same os and architecture, same variant if one is
 * asked. Throws NotFound with Docker's message when none fits.
 */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor {
  const w = normalizePlatform(want);
  const candidates = index.manifests.filter((d) => {
    if (!d.platform) return false;
    const p = normalizePlatform(d.platform);
    return p.os === w.os && p.architecture === w.architecture;
  });
  const exact = candidates.find((d) => normalizePlatform(d.platform!).variant === w.variant);
  const pick = exact ?? (want.variant ? undefined : candidates[0]);
  if (!pick) throw new NotFound(`no matching manifest for ${formatPlatform(w)} in the manifest list entries`);
  return pick;
}
