/**
 * COPY/ADD source resolution as the legacy builder does it: paths are
 * relative to the source root (the context, or a stage's/image's root for
 * `--from`), a leading `/` or `./` changes nothing, wildcards follow Go's
 * filepath.Match (`*` and `?` never cross `/`, `[a-z]`, `[^x]`, `\` escapes),
 * symlinks on the way are followed but never out of the root, and a directory
 * source means "its contents".
 *
 *   const srcs = await resolveSources('/ctx', ['*.txt', 'conf/'], { cmd: 'COPY', dest: '/etc/app/' });
 *   copyTargets(srcs, '/etc/app/')  // [{ src: {rel: 'a.txt', ...}, dest: '/etc/app/a.txt', ... }, ...]
 */
import * as nodeFs from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidArgument, NotFound } from '../../../common/errors.js';
import type { IgnoreRules } from './dockerignore.js';

export interface CopySource {
  /** The source as written in the instruction (after variable expansion). */
  pattern: string;
  /** Path relative to the source root that was matched (`''` for the root itself). */
  rel: string;
  /** Absolute path on disk, symlinks resolved inside the root. */
  abs: string;
  isDir: boolean;
}

/**
 * The few calls resolution makes, so a context held in memory (memory.ts)
 * resolves with the same code as one on disk. Missing paths reject.
 */
export interface SourceFs {
  lstat(abs: string): Promise<{ isDirectory(): boolean; isSymbolicLink(): boolean }>;
  stat(abs: string): Promise<{ isDirectory(): boolean }>;
  readlink(abs: string): Promise<string>;
  readdir(abs: string): Promise<string[]>;
}

const diskFs: SourceFs = { lstat: nodeFs.lstat, stat: nodeFs.stat, readlink: (p) => nodeFs.readlink(p), readdir: (p) => nodeFs.readdir(p) };

export interface ResolveOptions {
  /** Where the files are (default: the disk). */
  fs?: SourceFs;
  /** `COPY` or `ADD`, for messages. */
  cmd: string;
  /** The (expanded) destination, to check the "several sources need a dir/" rule. */
  dest: string;
  /** Paths hidden from COPY (a directory context filtered by .dockerignore). */
  ignore?: IgnoreRules;
  /** Sources of the same instruction handled elsewhere (heredocs, ADD URLs); they count for the rules. */
  others?: number;
}

/** Does the path hold unescaped `*`, `?` or `[`? */
export function containsWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === '*' || p[i] === '?' || p[i] === '[') return true;
  }
  return false;
}

/** Go's path/filepath.Match on `/`-separated names; a malformed pattern matches nothing. */
export function goMatch(pattern: string, name: string): boolean {
  const re = globRegex(pattern);
  return re !== undefined && re.test(name);
}

const globCache = new Map<string, RegExp | undefined>();
function globRegex(pattern: string): RegExp | undefined {
  if (globCache.has(pattern)) return globCache.get(pattern);
  let out = '^';
  let ok = true;
  const p = Array.from(pattern);
  const lit = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  for (let i = 0; i < p.length && ok; i++) {
    const c = p[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= p.length) ok = false;
      else out += lit(p[++i]);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (p[j] === '^') {
        cls += '^';
        j++;
      }
      let n = 0;
      for (; j < p.length && (p[j] !== ']' || n === 0); j++, n++) {
        let lo = p[j];
        if (lo === '\\') lo = p[++j];
        if (lo === undefined) break;
        cls += lit(lo);
        if (p[j + 1] === '-' && p[j + 2] !== undefined && p[j + 2] !== ']') {
          let hi = p[j + 2];
          j += 2;
          if (hi === '\\') hi = p[++j];
          if (hi === undefined || hi < lo) {
            ok = false;
            break;
          }
          cls += '-' + lit(hi);
        }
      }
      if (j >= p.length || n === 0) ok = false;
      // Go's classes never match the separator, negated or not.
      out += cls.startsWith('^') ? `[${cls}/]` : `(?!/)[${cls}]`;
      i = j;
    } else out += lit(c);
  }
  const re = ok ? new RegExp(out + '$', 'u') : undefined;
  globCache.set(pattern, re);
  return re;
}

/** `./a//b/` or `/a/b` → `a/b`; `.` and `/` → ``. `..` cannot climb above the root. */
export function cleanSourcePath(p: string): string {
  const n = posix.normalize('/' + p).slice(1).replace(/\/+$/, '');
  return n;
}

/**
 * Resolves `rel` inside `root` following symlinks as if `root` were `/`.
 * Returns the absolute path on disk, or undefined when it does not exist.
 */
export async function resolveInRoot(root: string, rel: string, fs: SourceFs = diskFs): Promise<string | undefined> {
  const todo = rel.split('/').filter((s) => s !== '' && s !== '.');
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const path = join(root, ...done, part);
    let st;
    try {
      st = await fs.lstat(path);
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++hops > 40) throw new InvalidArgument(`too many levels of symbolic links: ${rel}`);
    const target = await fs.readlink(path);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
  }
  return join(root, ...done);
}

const notFound = (cmd: string, rel: string) =>
  new NotFound(`${cmd} failed: file not found in build context or excluded by .dockerignore: stat ${rel}: file does not exist`);

/** Resolves every source of one COPY/ADD; throws Docker's errors for missing ones. */
export async function resolveSources(root: string, patterns: string[], opts: ResolveOptions): Promise<CopySource[]> {
  const out: CopySource[] = [];
  for (const pattern of patterns) {
    const rel = cleanSourcePath(pattern);
    if (containsWildcards(rel)) {
      for (const m of await walkMatches(root, rel, opts.ignore, opts.fs ?? diskFs)) out.push(await one(root, pattern, m, opts));
    } else {
      // Escapes only matter to wildcard matching; the literal name has none.
      out.push(await one(root, pattern, rel.replace(/\\(.)/g, '$1'), opts));
    }
  }
  const count = out.length + (opts.others ?? 0);
  if (count === 0) throw new InvalidArgument(`${opts.cmd} failed: no source files were specified`);
  if (count > 1 && !opts.dest.endsWith('/')) {
    throw new InvalidArgument(`When using ${opts.cmd} with more than one source file, the destination must be a directory and end with a /`);
  }
  return out;
}

async function one(root: string, pattern: string, rel: string, opts: ResolveOptions): Promise<CopySource> {
  if (opts.ignore?.excludes(rel)) throw notFound(opts.cmd, rel);
  const fs = opts.fs ?? diskFs;
  const abs = await resolveInRoot(root, rel, fs);
  if (abs === undefined) throw notFound(opts.cmd, rel);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st) throw notFound(opts.cmd, rel);
  return { pattern, rel, abs, isDir: st.isDirectory() };
}

/** Context paths matching a wildcard pattern, in walk order (directories are not followed through symlinks). */
async function walkMatches(root: string, pattern: string, ignore: IgnoreRules | undefined, fs: SourceFs): Promise<string[]> {
  const out: string[] = [];
  // Only walk as deep as the pattern has components: `*` never crosses `/`.
  const depth = pattern.split('/').length;
  const walk = async (relDir: string, level: number): Promise<void> => {
    let names: string[];
    try {
      names = (await fs.readdir(join(root, relDir))).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const excluded = ignore?.excludes(rel) ?? false;
      if (!excluded && goMatch(pattern, rel)) out.push(rel);
      if (level < depth && (!excluded || ignore?.hasExceptions)) {
        const st = await fs.lstat(join(root, rel));
        if (st.isDirectory()) await walk(rel, level + 1);
      }
    }
  };
  await walk('', 1);
  return out;
}

export interface CopyTarget {
  src: CopySource;
  /**
   * Where it goes. For a directory source: the directory its contents go
   * into. For a file: the file's path.
   */
  dest: string;
  /**
   * The destination had no trailing slash and the source is a file: if `dest`
   * already exists as a directory in the image, the file goes inside it
   * under its own name instead (only the executor can tell).
   */
  intoIfDir: boolean;
}

/** Where each source lands for a destination `dest` (absolute, trailing `/` meaningful). */
export function copyTargets(sources: CopySource[], dest: string): CopyTarget[] {
  const dirDest = dest.endsWith('/');
  return sources.map((src) => {
    if (src.isDir) return { src, dest: dirDest && dest.length > 1 ? dest.slice(0, -1) : dest, intoIfDir: false };
    const name = posix.basename(src.rel || src.abs);
    return dirDest ? { src, dest: dest + name, intoIfDir: false } : { src, dest, intoIfDir: true };
  });
}
