import { readFileSync } from 'node:fs';
import { LineCounter, parse, parseDocument, isAlias, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import { InvalidArgument } from '../common/errors.js';

/**
 * A compose file as parsed: its plain value plus the YAML document, kept so
 * that every later error can point at the file and line it came from.
 *
 *   const src = parseSource('/p/compose.yaml', text);
 *   src.lineOf(['services', 'web', 'image'])  // → 3
 */
export interface ComposeSource {
  /** Absolute path, or `-` for stdin. */
  file: string;
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing ancestor. */
  lineOf(path: (string | number)[]): number;
  /** Whether the file itself holds `path` (the first key at least, for a service). */
  has(path: (string | number)[]): boolean;
  /** Values tagged `!reset` (drop what earlier files set) or `!override` (replace instead of merging). */
  tags: MergeTag[];
}

export interface MergeTag { path: (string | number)[]; tag: '!reset' | '!override' }

/** A refused compose file: the message names the file, line and (when known) the service. */
export class ComposeError extends InvalidArgument {
  constructor(readonly file: string, readonly line: number | undefined, readonly detail: string) {
    super(line ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
  }
}

export function readSource(file: string): ComposeSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ComposeError(file, undefined, code === 'ENOENT' ? 'no such file or directory' : String(err));
  }
  return parseSource(file, text);
}

export function parseSource(file: string, text: string): ComposeSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, merge: true, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    // The yaml package's message ends with a code excerpt; keep the first sentence.
    throw new ComposeError(file, line, `invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const tags: MergeTag[] = [];
  collectMergeTags(doc.contents as Node | null, [], tags);
  keepNumbersAsWritten(doc.contents as Node | null, false);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ComposeError(file, undefined, `invalid YAML: ${(err as Error).message}`);
  }
  return { file, value: value ?? {}, lineOf: (path) => lineOf(doc, lc, path).line, has: (path) => lineOf(doc, lc, path).found, tags };
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): { line: number; found: boolean } {
  let node: Node | null = doc.contents as Node | null;
  let best = node?.range ? lc.linePos(node.range[0]).line : 1;
  let depth = 0;
  for (const key of path) {
    if (!node) break;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(key));
      if (!pair) {
        // Keys brought in by a merge key (`<<: *x`) live under the anchor: follow it.
        const merged = node.items.find((p) => isScalar(p.key) && p.key.value === '<<');
        if (!merged) break;
        const target = deref(doc, merged.value as Node | null);
        if (target && isMap(target)) {
          const inner = target.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
          if (!inner) break;
          const kn = inner.key as Node;
          if (kn?.range) best = lc.linePos(kn.range[0]).line;
          next = inner.value;
        } else break;
      } else {
        const kn = pair.key as Node;
        if (kn?.range) best = lc.linePos(kn.range[0]).line;
        next = pair.value;
      }
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key];
      const n = next as Node | undefined;
      if (n?.range) best = lc.linePos(n.range[0]).line;
    } else break;
    node = deref(doc, next as Node | null);
    depth++;
  }
  return { line: best, found: depth === path.length };
}

function deref(doc: Document, node: Node | null): Node | null {
  return node && isAlias(node) ? ((node.resolve(doc) as Node | undefined) ?? null) : node;
}

/** Records and strips compose's merge tags so the value underneath reads as plain YAML. */
function collectMergeTags(node: Node | null, path: (string | number)[], out: MergeTag[]): void {
  if (!node) return;
  if (node.tag === '!reset' || node.tag === '!override') {
    out.push({ path, tag: node.tag });
    node.tag = undefined;
    // An unknown tag left the scalar a string; read it again as YAML would have.
    if (isScalar(node) && typeof node.source === 'string') node.value = parse(node.source);
  }
  if (isMap(node)) {
    for (const p of node.items) collectMergeTags(p.value as Node | null, [...path, isScalar(p.key) ? String(p.key.value) : String(p.key)], out);
  } else if (isSeq(node)) {
    node.items.forEach((n, i) => collectMergeTags(n as Node | null, [...path, i], out));
  }
}

/** Mappings whose values are strings whatever they look like: `VERSION: 1.10` stays "1.10". */
const stringMaps = new Set(['environment', 'labels', 'args', 'sysctls', 'driver_opts', 'options', 'extra_hosts']);

function keepNumbersAsWritten(node: Node | null, inStringMap: boolean): void {
  if (!node) return;
  if (isMap(node)) {
    for (const p of node.items) {
      const key = isScalar(p.key) ? String(p.key.value) : '';
      const value = p.value as Node | null;
      if (inStringMap && isScalar(value) && typeof value.value === 'number' && typeof value.source === 'string') value.value = value.source;
      else keepNumbersAsWritten(value, stringMaps.has(key));
    }
  } else if (isSeq(node)) {
    for (const n of node.items) keepNumbersAsWritten(n as Node | null, false);
  }
}
