/**
 * Dockerfile text → one node per instruction, as Docker's parser reads it:
 * parser directives at the top (`# escape=` and `# syntax=`, the latter
 * accepted and ignored), comments, line continuations (comment and empty lines
 * inside a continuation are skipped), JSON (exec) form versus shell form,
 * leading `--flags`, and heredocs for RUN/COPY/ADD (also under ONBUILD).
 *
 *   const { nodes } = parseDockerfile('FROM busybox\nRUN echo \\\n  hi\n');
 *   nodes[1]  // { cmd: 'RUN', args: ['echo   hi'], json: false, startLine: 2, endLine: 3, ... }
 *
 * Nodes are still untyped; instructions.ts checks arguments and flags and
 * turns them into typed instructions. Every error carries the line it is on.
 */
import { DockerfileError } from './errors.js';
import { heredocCapable, heredocsFromLine } from './heredoc.js';
import { nodeFromLine } from './line.js';

export { chompHeredoc, parseHeredocWord } from './heredoc.js';

export interface Heredoc {
  /** Delimiter word with quotes removed, e.g. `EOF`. */
  name: string;
  /** `3<<EOF` → 3; 0 when absent. */
  fd: number;
  /** False when the delimiter was quoted (`<<'EOF'`): the body is taken literally. */
  expand: boolean;
  /** `<<-EOF`: leading tabs are stripped from the body and the terminator. */
  chomp: boolean;
  /** The body, each line with its newline, terminator excluded. */
  content: string;
}

export interface Node {
  /** The instruction word as written (`RUN`, `run`…). */
  cmd: string;
  /** Leading `--name[=value]` words, quotes removed. */
  flags: string[];
  /**
   * Arguments as Docker's per-instruction line parser splits them: one string
   * for shell form, the elements for JSON form, name/value/separator triples
   * for ENV and LABEL, the trigger's own words after its name for ONBUILD.
   */
  args: string[];
  /** The arguments were a JSON array (exec form). */
  json: boolean;
  /** The whole instruction as one line: continuations joined, comments dropped. */
  original: string;
  startLine: number;
  endLine: number;
  heredocs: Heredoc[];
  /** For ONBUILD: the trigger instruction. */
  trigger?: Node;
}

export interface ParseResult {
  nodes: Node[];
  escapeToken: string;
  /** Docker's `[WARNING]: ...` lines (empty continuation lines). */
  warnings: string[];
}

const directiveRe = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const knownDirectives = new Set(['syntax', 'escape', 'check']);

/** Parses a whole Dockerfile. `file` only labels error messages. */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParseResult {
  const lines = splitLines(text.replace(/^\uFEFF/, ''));
  const d = new Directives();
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let current = 0;
  const fail = (msg: string, line: number): never => {
    throw new DockerfileError(file, line, msg);
  };
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = token.replace(/^\s+/u, '');
    try {
      d.possibleDirective(token);
    } catch (e) {
      fail((e as Error).message, current + 1);
    }
    return isComment(token) ? '' : token;
  };

  let i = 0;
  while (i < lines.length) {
    let text = processLine(lines[i++], true);
    current++;
    const startLine = current;
    let [line, eol] = d.trimContinuation(text);
    if (eol && line === '') continue;
    let emptyContinuation = false;
    while (!eol && i < lines.length) {
      const raw = lines[i++];
      text = processLine(raw, false);
      current++;
      if (isComment(raw)) continue;
      if (/^\s*$/u.test(trimNewline(text))) {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, eol] = d.trimContinuation(text);
      line += part;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in: ${line}`);

    let node: Node;
    try {
      node = nodeFromLine(line, d.escape);
    } catch (e) {
      return fail((e as Error).message, startLine);
    }
    const target = node.trigger ?? node;
    if (heredocCapable(target) && line.includes('<<')) {
      let docs: Heredoc[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        return fail((e as Error).message, startLine);
      }
      for (const doc of docs) {
        let terminated = false;
        let content = '';
        while (i < lines.length) {
          const raw = lines[i++];
          current++;
          let candidate = trimNewline(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) fail('unterminated heredoc', startLine);
        doc.content = content;
        target.heredocs.push(doc);
      }
      if (target !== node) node.heredocs = target.heredocs;
    }
    node.startLine = startLine;
    node.endLine = current;
    nodes.push(node);
  }
  if (nodes.length === 0) fail('file with no instructions', current);
  return { nodes, escapeToken: d.escape, warnings };
}

/** Splits keeping each line's newline, like Docker's scanner. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const isComment = (s: string) => /^\s*#/u.test(s);

class Directives {
  escape = '\\';
  private continuation = Directives.continuationRe('\\');
  private done = false;
  private seen = new Set<string>();

  private static continuationRe(esc: string): RegExp {
    const e = '\\' + esc;
    return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Directives only count before the first line that is not one. */
  possibleDirective(line: string): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = directiveRe.exec(line.slice(1).replace(/^\s+/u, ''));
    const key = m?.[1].toLowerCase();
    if (!m || !key || !knownDirectives.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') {
      const v = m[2];
      if (v !== '`' && v !== '\\') throw new Error(`invalid escape token '${v}' does not match \` or \\`);
      this.escape = v;
      this.continuation = Directives.continuationRe(v);
    }
  }

  /** Removes a trailing escape token; returns [line, isEndOfLine]. */
  trimContinuation(line: string): [string, boolean] {
    if (this.continuation.test(line)) return [line.replace(this.continuation, '$1'), false];
    return [line, true];
  }
}
