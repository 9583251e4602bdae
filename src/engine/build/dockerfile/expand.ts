/**
 * Variable expansion as Docker's builder does it: a small shell-like lexer that
 * knows `$var`, `${var}`, `${var:-default}`, `${var-default}`, `${var:+alt}`,
 * `${var+alt}`, `${var?msg}`, `${var#pat}`/`${var%pat}` (and `##`/`%%`),
 * `${var/pat/repl}`, single and double quotes and the escape token. It does not
 * run commands, split on `;` or glob: it only substitutes and unquotes.
 *
 *   const lex = new ShellLex();
 *   lex.processWord('"$HOME"/bin', envOf({ HOME: '/root' }))  // { result: '/root/bin', ... }
 *   lex.processWords('a "b c" $X', envOf({ X: 'd e' }))          // ['a', 'b c', 'd', 'e']
 *
 * Which instructions expand and with which variables is the planner's business
 * (plan.ts); RUN/CMD/ENTRYPOINT are never expanded by the builder.
 */

/** Where the lexer looks variables up. */
export interface EnvLookup {
  get(name: string): string | undefined;
}

/** A lookup over a plain object or Map, e.g. `envOf({ PATH: '/bin' })`. */
export function envOf(vars: Record<string, string> | Map<string, string>): EnvLookup {
  if (vars instanceof Map) return { get: (k) => vars.get(k) };
  return { get: (k) => (Object.prototype.hasOwnProperty.call(vars, k) ? vars[k] : undefined) };
}

/** A lookup over `KEY=value` strings as in an image config's Env; later entries win. */
export function envFromList(list: readonly string[]): EnvLookup {
  const m = new Map<string, string>();
  for (const e of list) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return envOf(m);
}

export interface LexOptions {
  /** `\` (default) or the backtick chosen by the `# escape=` directive. */
  escapeToken?: string;
  /** Keep quote characters in the output (used to detect quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the output. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipProcessQuotes?: boolean;
  /** Leave `$name` untouched when name is unset instead of substituting "". */
  skipUnsetEnv?: boolean;
}

export interface WordResult {
  result: string;
  /** Variable names that were looked up and found. */
  matched: Set<string>;
  /** Variable names that were looked up and not set. */
  unmatched: Set<string>;
}

/** Thrown for malformed words; the message is Docker's, e.g. `failed to process "${a": syntax error: missing '}'`. */
export class ExpandError extends Error {}

const EOF = '';

/** Go's strconv.Quote for the printable ASCII cases that matter in messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

export class ShellLex {
  private readonly escape: string;
  constructor(private readonly opts: LexOptions = {}) {
    this.escape = opts.escapeToken ?? '\\';
  }

  /** Expands one word; whitespace inside the result is kept. */
  processWord(word: string, env: EnvLookup): WordResult {
    const w = new Scan(word, this.escape, this.opts, env);
    const [result] = w.run(word);
    return { result, matched: w.matched, unmatched: w.unmatched };
  }

  /** Expands and splits into words as a shell would (unquoted expansions split on whitespace). */
  processWords(word: string, env: EnvLookup): string[] {
    const w = new Scan(word, this.escape, this.opts, env);
    return w.run(word)[1];
  }
}

const isSpace = (ch: string) => /^\s$/u.test(ch);
const isLetter = (ch: string) => /^\p{L}$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);

class Words {
  buf = '';
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Scan {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(word: string, private readonly escape: string, private readonly opts: LexOptions, private readonly env: EnvLookup) {
    this.chars = Array.from(word);
    this.rawEscapes = !!opts.rawEscapes;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  run(source: string): [string, string[]] {
    try {
      return this.processStopOn(EOF, this.rawEscapes);
    } catch (e) {
      if (e instanceof ExpandError) throw new ExpandError(`failed to process ${goQuote(source)}: ${e.message}`);
      throw e;
    }
  }

  private processStopOn(stop: string, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return [result, words.get()];
        }
        const quotes = !this.opts.skipProcessQuotes;
        if (ch === '$' || ch === '<' || (quotes && (ch === "'" || ch === '"'))) {
          const tmp = ch === '$' ? this.processDollar() : ch === '<' ? this.processPossibleHeredoc()
            : ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        ch = this.next();
        if (ch === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
      if (stop !== EOF) throw new ExpandError(`unexpected end of statement while looking for matching ${stop}`);
      return [result, words.get()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    let ch = this.next();
    if (this.opts.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF) throw new ExpandError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ExpandError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue;
        if (q === '"' || q === '$' || q === this.escape) ch = this.next();
      }
      result += ch;
    }
  }

  private lookup(name: string): string | undefined {
    const v = this.env.get(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next();
    const p = this.peek();
    if (p === EOF) throw new ExpandError("syntax error: missing '}'");
    if (p === '{' || p === '}' || p === ':') throw new ExpandError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Docker says "unsupported modifier (\uFFFD)" here; the missing brace is the real problem.
    if (ch === EOF) throw new ExpandError("syntax error: missing '}'");
    let chs = ch;
    let nullIsUnset = false;
    if (ch === '}') {
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return v ?? '';
    }
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? '\uFFFD' : ch;
    }
    if (ch === '/' && !nullIsUnset) return this.processReplace(name);
    if (nullIsUnset || ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const raw = ch === '#' || ch === '%';
      if (nullIsUnset && raw) throw new ExpandError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        [word] = this.processStopOn('}', raw);
      } catch (e) {
        if (this.peek() === EOF) throw new ExpandError("syntax error: missing '}'");
        throw e;
      }
      const v = this.lookup(name);
      if (this.opts.skipUnsetEnv && v === undefined) return '${' + name + chs + word + '}';
      const empty = v === undefined || (nullIsUnset && v === '');
      switch (ch) {
        case '-':
          return empty ? word : v!;
        case '+':
          return empty ? '' : word;
        case '?':
          if (v === undefined) throw new ExpandError(`${name}: ${word || 'is not allowed to be unset'}`);
          if (nullIsUnset && v === '') throw new ExpandError(`${name}: ${word || 'is not allowed to be empty'}`);
          return v;
        case '%':
        case '#': {
          let greedy = false;
          if (word.startsWith(ch)) {
            greedy = true;
            word = word.slice(1);
          }
          return ch === '%' ? trimSuffix(word, v ?? '', greedy) : trimPrefix(word, v ?? '', greedy);
        }
        default:
          throw new ExpandError(`unsupported modifier (${chs}) in substitution`);
      }
    }
    throw new ExpandError(`unsupported modifier (${chs}) in substitution`);
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    let repl: string;
    try {
      [pattern] = this.processStopOn('/', true);
    } catch (e) {
      if (this.peek() === EOF) throw new ExpandError("syntax error: missing '/' in ${}");
      throw e;
    }
    try {
      [repl] = this.processStopOn('}', true);
    } catch (e) {
      if (this.peek() === EOF) throw new ExpandError("syntax error: missing '}'");
      throw e;
    }
    const v = this.lookup(name);
    if (this.opts.skipUnsetEnv && v === undefined) return '${' + name + '/' + pattern + '/' + repl + '}';
    const re = shellPatternToRegex(pattern, true, false, all);
    const value = v ?? '';
    if (all) return value.replace(re, () => repl);
    const m = re.exec(value);
    return m ? value.slice(0, m.index) + repl + value.slice(m.index + m[0].length) : value;
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    while (this.peek() === '\t' || this.peek() === '\r' || this.peek() === ' ') space += this.next();
    return '<<' + space;
  }
}

/** A shell glob (`*`, `?`, `\` escapes) as a RegExp, for `${v#pat}` and friends. */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i];
    if (tok === '*') {
      out += greedy ? '.*' : '.*?';
    } else if (tok === '?') {
      out += '.';
    } else if (tok === '\\') {
      const nx = chars[i + 1];
      if (nx === '}' || nx === '/') continue;
      i++;
      if (nx !== '*' && nx !== '?' && nx !== '\\') throw new ExpandError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      out += '\\' + nx;
    } else {
      out += tok.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out: string[] = new Array(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last;) {
    if (p[i] === '\\' && i !== last) {
      out[last - i - 1] = p[i];
      out[last - i] = p[i + 1];
      i += 2;
    } else {
      out[last - i] = p[i];
      i++;
    }
  }
  return out.join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const rev = (s: string) => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversePattern(pattern), rev(value), greedy));
}
