/**
 * `.dockerignore` with Docker's semantics: patterns are Go filepath.Match
 * globs plus `**`, anchored at the context root (a leading `/` changes
 * nothing), `!` re-includes, the last matching line wins, and a pattern that
 * matches a directory excludes everything below it. Matching itself is
 * `@balena/dockerignore`, a port of Docker's matcher; reading the file follows
 * Docker's reader (comments, trimming, path cleaning).
 *
 *   const ig = new IgnoreRules(readIgnoreFile('*.log\n!keep.log\n'));
 *   ig.excludes('a.log')     // true
 *   ig.excludes('keep.log')  // false
 */
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import type { Ignore } from '@balena/dockerignore';

const require = createRequire(import.meta.url);
const ignore = require('@balena/dockerignore') as (opts?: { ignorecase?: boolean }) => Ignore;

/** Patterns from a .dockerignore file's text, cleaned as Docker's reader does. */
export function readIgnoreFile(text: string): string[] {
  const out: string[] = [];
  for (let line of text.replace(/^\uFEFF/, '').split('\n')) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (line === '') continue;
    const invert = line.startsWith('!');
    if (invert) line = line.slice(1).trim();
    if (line !== '') {
      line = posix.normalize(line);
      if (line.length > 1 && line.endsWith('/')) line = line.slice(0, -1);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    out.push(invert ? '!' + line : line);
  }
  return out;
}

export class IgnoreRules {
  private readonly matcher: Ignore;
  /** Whether any `!` pattern exists: then an excluded directory must still be walked. */
  readonly hasExceptions: boolean;

  constructor(readonly patterns: string[]) {
    // One pattern at a time: a string is split on newlines and `#` lines are dropped.
    this.matcher = ignore();
    for (const p of patterns) this.matcher.add(p.startsWith('#') ? '\\' + p : p);
    this.hasExceptions = patterns.some((p) => p.startsWith('!'));
  }

  /** Is this context-relative path (`a/b.txt`, no leading `./`) excluded? */
  excludes(rel: string): boolean {
    if (rel === '' || rel === '.') return false;
    return this.matcher.ignores(rel);
  }

  /**
   * Keeps the Dockerfile and .dockerignore in the context even when excluded,
   * as the docker CLI does: the daemon must read them. (The daemon then hides
   * them from COPY again; see context.ts.)
   */
  keepingBuildFiles(dockerfile: string): IgnoreRules {
    const extra: string[] = [];
    if (this.excludes('.dockerignore')) extra.push('!.dockerignore');
    const df = posix.normalize(dockerfile).replace(/^\.?\//, '');
    if (this.excludes(df)) extra.push('!' + df);
    return extra.length ? new IgnoreRules([...this.patterns, ...extra]) : this;
  }
}
