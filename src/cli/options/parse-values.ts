import { readFileSync } from 'node:fs';
import { parseGoDuration } from '../format/human.js';

/** A bad flag value: the CLI prints the message with a usage hint and exits 125. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** go-units RAMInBytes: "512m", "1.5g", "64MB", "1024" → bytes (binary multiples). */
export function parseRamBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`invalid size: '${v}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.trunc(Number(m[1]) * mult[m[2].toLowerCase()]);
}

/** "KEY=VALUE" stays; a bare "KEY" takes the value from the caller's environment when set. */
export function expandEnv(v: string, env: NodeJS.ProcessEnv): string {
  if (v.includes('=')) {
    if (v.startsWith('=')) throw new UsageError(`invalid environment variable: ${v}`);
    return v;
  }
  const val = env[v];
  return val === undefined ? v : `${v}=${val}`;
}

/** Reads an `--env-file`/`--label-file`: one entry a line, `#` comments and blank lines skipped. */
export function readEnvFile(path: string, env: NodeJS.ProcessEnv): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`open ${path}: no such file or directory`);
  }
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid environment variable: ${line}`);
    const key = eq < 0 ? line : line.slice(0, eq);
    if (/\s/.test(key)) throw new UsageError(`variable '${key.trim()}' contains whitespaces`);
    out.push(eq < 0 ? expandEnv(line, env) : line);
  }
  return out;
}

/** `k=v` pairs (labels, sysctls, log options) into a map; a bare `k` maps to "". */
export function keyValues(list: string[], what: string, requireValue = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq === 0 || (requireValue && eq < 0)) throw new UsageError(`invalid ${what}: ${item}`);
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Go durations for health checks ("30s", "1m30s") → nanoseconds. */
export function durationNanos(v: string, flag: string): number {
  const ms = parseGoDuration(v);
  if (ms === undefined) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: time: invalid duration "${v}"`);
  return Math.round(ms * 1e6);
}

export function parseIntFlag(v: string, flag: string): number {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** Go's strconv.ParseBool, used for `--flag=false` forms. */
export function parseBool(v: string | boolean | undefined, flag: string): boolean {
  if (v === undefined || v === true || v === false) return v !== false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new UsageError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** Validates an image reference the way the docker CLI does before sending it. */
export function checkReference(ref: string): void {
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) return;
  const at = ref.indexOf('@');
  const nameTag = at >= 0 ? ref.slice(0, at) : ref;
  const slash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  const name = colon > slash ? nameTag.slice(0, colon) : nameTag;
  const tag = colon > slash ? nameTag.slice(colon + 1) : undefined;
  const comp = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
  const parts = name.split('/');
  const domainOk = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) && /^[A-Za-z0-9.-]+(:\d+)?$/.test(parts[0]);
  const pathParts = domainOk ? parts.slice(1) : parts;
  if (pathParts.length === 0 || !pathParts.every((p) => comp.test(p))) {
    if (pathParts.some((p) => p !== p.toLowerCase())) {
      // Named as Docker names it: a first part with capitals counts as a registry, one part is under library/.
      const asDomain = parts.length > 1 && (domainOk || parts[0] !== parts[0].toLowerCase());
      const repo = asDomain ? parts.slice(1) : parts.length === 1 ? ['library', ...parts] : parts;
      throw new UsageError(`invalid reference format: repository name (${repo.join('/')}) must be lowercase`);
    }
    throw new UsageError('invalid reference format');
  }
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw new UsageError('invalid reference format');
  if (at >= 0 && !/^[a-z0-9]+:[a-f0-9]{32,}$/.test(ref.slice(at + 1))) throw new UsageError('invalid reference format');
}

/** Splits "name[:tag][@digest]" into what `POST /images/create` wants; tag defaults to latest. */
export function splitReference(ref: string): { name: string; tag: string; full: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1), full: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1), full: ref };
  return { name: ref, tag: 'latest', full: `${ref}:latest` };
}
