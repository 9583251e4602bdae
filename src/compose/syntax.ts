import { isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { PortConfig, ServiceVolume } from './model.js';

/**
 * Parsers for compose's short syntaxes. Each returns the long form or throws
 * a plain Error whose message the normaliser places at the right line.
 *
 *   parsePorts('127.0.0.1:8080:80/udp') // → [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' }]
 *   parseVolume('./src:/app:ro', '/p')  // → { type: 'bind', source: '/p/src', target: '/app', read_only: true, ... }
 */
export function parsePorts(spec: string | number): PortConfig[] {
  const text = String(spec).trim();
  let rest = text;
  let hostIp: string | undefined;
  let protocol: PortConfig['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1);
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`invalid proto: ${proto}`);
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = v6[2].split(':');
    if (parts.length === 1) parts = ['', ...parts];
  } else {
    parts = rest.split(':');
    if (parts.length === 3) hostIp = parts.shift() || undefined;
    else if (parts.length > 3) throw new Error(`invalid port format: ${text}`);
  }
  const container = parts[parts.length - 1];
  const host = parts.length === 2 ? parts[0] : '';
  const [cLo, cHi] = range(container, text);
  const hostRange = host === '' ? undefined : range(host, text);
  const count = cHi - cLo + 1;
  if (hostRange && hostRange[1] - hostRange[0] + 1 !== count && hostRange[0] !== hostRange[1] && count !== 1) {
    throw new Error(`invalid ranges specified for container and host Ports: ${container} and ${host}`);
  }
  const out: PortConfig[] = [];
  for (let i = 0; i < count; i++) {
    const p: PortConfig = { mode: 'ingress', target: cLo + i, protocol };
    if (hostRange) {
      // A host range for one container port lets the engine choose inside it.
      p.published = count === 1 && hostRange[0] !== hostRange[1] ? `${hostRange[0]}-${hostRange[1]}`
        : String(hostRange[0] + (hostRange[0] === hostRange[1] ? 0 : i));
    }
    if (hostIp) p.host_ip = hostIp;
    out.push(p);
  }
  return out;
}

function range(text: string, whole: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new Error(`invalid port format: ${whole}`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 0 || hi > 65535 || hi < lo) throw new Error(`invalid port range: ${text}`);
  return [lo, hi];
}

/** A bind source is a path: it starts with `.`, `/` or `~`; anything else names a volume. */
export function isPathSource(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
}

export function resolvePath(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export function parseVolume(spec: string, baseDir: string): ServiceVolume {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i < 2)) throw new Error(`invalid spec: ${spec}: empty section between colons`);
  if (parts.length === 1) return { type: 'volume', target: parts[0] };
  const [source, target, mode = ''] = parts;
  const opts = mode === '' ? [] : mode.split(',');
  for (const o of opts) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'cached', 'delegated', 'consistent'].includes(o)) {
      throw new Error(`invalid mode: ${o}`);
    }
  }
  const v: ServiceVolume = isPathSource(source)
    ? { type: 'bind', source: resolvePath(source, baseDir), target, bind: { create_host_path: true } }
    : { type: 'volume', source, target, volume: {} };
  if (opts.includes('ro')) v.read_only = true;
  if (opts.includes('nocopy') && v.type === 'volume') v.volume = { nocopy: true };
  const prop = opts.find((o) => /^r?(shared|slave|private)$/.test(o));
  if (prop && v.bind) v.bind.propagation = prop;
  return v;
}

/** Splits a command string as a POSIX shell would, without expansions. */
export function shellSplit(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in "${text}"`);
      cur += text.slice(i + 1, end);
      have = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) i++;
        cur += text[i++];
      }
      if (i >= text.length) throw new Error(`unterminated quote in "${text}"`);
      have = true;
      i++;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[i + 1];
      have = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
      i++;
    } else {
      cur += c;
      have = true;
      i++;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** `KEY=VAL` / `KEY` lists and `{KEY: VAL}` maps, scalars as strings; `null` for a bare key. */
export function listOrMap(v: unknown, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (v && typeof v === 'object') {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? null : String(val);
  }
  return out;
}
