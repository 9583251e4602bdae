/**
 * Platforms as builds name them (`FROM --platform=linux/arm64`, `build
 * --platform`): parsed and normalised as containerd's `platforms.Parse` does,
 * so `x86_64` is `amd64` and `linux` alone means the host's architecture;
 * and the automatic ARGs (`TARGETPLATFORM`, `BUILDARCH`, ...) BuildKit
 * defines, which the legacy builder lacked but Dockerfiles now expect.
 *
 *   parsePlatform('linux/x86_64')                // { os: 'linux', architecture: 'amd64' }
 *   formatPlatform(parsePlatform('arm64'))       // 'linux/arm64'
 *   platformArgs(parsePlatform('linux/arm/v7'))  // { TARGETPLATFORM: 'linux/arm/v7', TARGETARCH: 'arm', ..., BUILDPLATFORM: 'linux/amd64', ... }
 */
import { InvalidArgument } from '../../common/errors.js';
import { hostPlatform } from '../images/import.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd',
  'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle',
  'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const COMPONENT = /^[A-Za-z0-9_-]+$/;

/** The platform this daemon runs containers for. */
export function hostBuildPlatform(): Platform {
  const h = hostPlatform();
  return { os: h.os, architecture: h.architecture };
}

function normalizeOs(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

/** Architecture aliases and their implied variants, as containerd folds them. */
function normalizeArch(arch: string, variant: string): { architecture: string; variant?: string } {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386': return { architecture: '386' };
    case 'x86_64': case 'x86-64': case 'amd64': return { architecture: 'amd64', variant: v === 'v1' || v === '' ? undefined : v };
    case 'aarch64': case 'arm64': return { architecture: 'arm64', variant: v === '8' || v === 'v8' || v === '' ? undefined : v };
    case 'armhf': return { architecture: 'arm', variant: 'v7' };
    case 'armel': return { architecture: 'arm', variant: 'v6' };
    case 'arm': return { architecture: 'arm', variant: /^[5-8]$/.test(v) ? `v${v}` : v || undefined };
    default: return { architecture: a, variant: v || undefined };
  }
}

/** Parses `os[/arch[/variant]]`; throws Docker's `failed to parse platform ...` errors. */
export function parsePlatform(spec: string): Platform {
  const bad = (why: string) => new InvalidArgument(`failed to parse platform ${spec}: ${why}: invalid argument`);
  if (spec.includes('*')) throw bad(`"${spec}": wildcards not yet supported`);
  const parts = spec.split('/');
  for (const p of parts) {
    if (!COMPONENT.test(p)) throw bad(`"${p}" is an invalid component of "${spec}": platform specifier component must match "^[A-Za-z0-9_-]+$"`);
  }
  const host = hostBuildPlatform();
  if (parts.length === 1) {
    if (KNOWN_OS.has(normalizeOs(parts[0]))) return { ...host, os: normalizeOs(parts[0]) };
    const a = normalizeArch(parts[0], '');
    if (KNOWN_ARCH.has(a.architecture)) return { os: host.os, ...a };
    throw bad(`"${spec}": unknown operating system or architecture`);
  }
  if (parts.length === 2 || parts.length === 3) {
    const a = normalizeArch(parts[1], parts[2] ?? '');
    return { os: normalizeOs(parts[0]), architecture: a.architecture, ...(a.variant ? { variant: a.variant } : {}) };
  }
  throw bad(`"${spec}": cannot parse platform specifier`);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * Can an image of platform `have` serve a build that wants `want`? OS and
 * architecture must be equal; a variant matters only when both name one.
 * An image that records no architecture is taken as it comes.
 */
export function platformMatches(want: Platform, have: { os?: string; architecture?: string; variant?: string }): boolean {
  if (!have.architecture) return true;
  if ((have.os ?? 'linux') !== want.os || have.architecture !== want.architecture) return false;
  return !want.variant || !have.variant || want.variant === have.variant;
}

/** BuildKit's automatic platform ARGs for a build targeting `target` on this host. */
export function platformArgs(target: Platform): Record<string, string> {
  const build = hostBuildPlatform();
  const set = (prefix: string, p: Platform) => ({
    [`${prefix}PLATFORM`]: formatPlatform(p), [`${prefix}OS`]: p.os, [`${prefix}ARCH`]: p.architecture, [`${prefix}VARIANT`]: p.variant ?? '',
  });
  return { ...set('BUILD', build), ...set('TARGET', target) };
}
