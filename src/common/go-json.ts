/**
 * The syntax error Go's encoding/json reports for a document, or undefined
 * if it is valid JSON. Docker decodes user-supplied JSON (seccomp profiles,
 * request bodies) with Go and shows that text verbatim, so this mirrors its
 * scanner: same first failing byte, same wording.
 *
 *   goJsonSyntaxError('{nope')   // "invalid character 'n' looking for beginning of object key string"
 *   goJsonSyntaxError('[1,')     // "unexpected end of JSON input"
 *   goJsonSyntaxError('{"a":1}') // undefined
 */
export function goJsonSyntaxError(text: string): string | undefined {
  const s = new JsonScanner(Buffer.from(text, 'utf8'));
  try {
    s.value();
    s.space();
    if (s.i < s.b.length) s.fail('after top-level value');
    return undefined;
  } catch (e) {
    if (e instanceof GoSyntaxError) return e.message;
    throw e;
  }
}

/** How Go names a decoded JSON value's kind in "cannot unmarshal X into ..." errors. */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

class GoSyntaxError extends Error {}

/** Go's strconv.Quote of one byte (as a rune), in single quotes. */
function quoteByte(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const special: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (special[c]) return `'${special[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if (c >= 0x80 && (c < 0xa1 || c === 0xad)) return `'\\u00${c.toString(16)}'`;
  return `'${String.fromCharCode(c)}'`;
}

class JsonScanner {
  i = 0;
  constructor(readonly b: Buffer) {}

  fail(context: string): never {
    if (this.i >= this.b.length) throw new GoSyntaxError('unexpected end of JSON input');
    throw new GoSyntaxError(`invalid character ${quoteByte(this.b[this.i])} ${context}`);
  }

  space(): void {
    while (this.i < this.b.length && [0x20, 0x09, 0x0a, 0x0d].includes(this.b[this.i])) this.i++;
  }

  private peek(): number { return this.i < this.b.length ? this.b[this.i] : -1; }
  private isDigit(): boolean { return this.peek() >= 0x30 && this.peek() <= 0x39; }

  value(): void {
    this.space();
    const c = this.peek();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    this.fail('looking for beginning of value');
  }

  private object(): void {
    this.i++;
    this.space();
    if (this.peek() === 0x7d) { this.i++; return; }
    for (;;) {
      this.space();
      if (this.peek() !== 0x22) this.fail('looking for beginning of object key string');
      this.string();
      this.space();
      if (this.peek() !== 0x3a) this.fail('after object key');
      this.i++;
      this.value();
      this.space();
      if (this.peek() === 0x2c) { this.i++; continue; }
      if (this.peek() === 0x7d) { this.i++; return; }
      this.fail('after object key:value pair');
    }
  }

  private array(): void {
    this.i++;
    this.space();
    if (this.peek() === 0x5d) { this.i++; return; }
    for (;;) {
      this.value();
      this.space();
      if (this.peek() === 0x2c) { this.i++; continue; }
      if (this.peek() === 0x5d) { this.i++; return; }
      this.fail('after array element');
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c === 0x22) { this.i++; return; }
      if (c === 0x5c) {
        this.i++;
        if (this.peek() === 0x75) {
          for (let k = 0; k < 4; k++) {
            this.i++;
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(this.peek()))) this.fail('in \\u hexadecimal character escape');
          }
        } else if (!'bfnrt\\/"'.includes(String.fromCharCode(this.peek())) || this.peek() < 0) {
          this.fail('in string escape code');
        }
      } else if (c < 0x20) {
        this.fail('in string literal');
      }
      this.i++;
    }
  }

  private number(): void {
    if (this.peek() === 0x2d) {
      this.i++;
      if (!this.isDigit()) this.fail('in numeric literal');
    }
    if (this.peek() === 0x30) this.i++;
    else while (this.isDigit()) this.i++;
    if (this.peek() === 0x2e) {
      this.i++;
      if (!this.isDigit()) this.fail('after decimal point in numeric literal');
      while (this.isDigit()) this.i++;
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      this.i++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.i++;
      if (!this.isDigit()) this.fail('in exponent of numeric literal');
      while (this.isDigit()) this.i++;
    }
  }

  private literal(word: string): void {
    for (let k = 1; k < word.length; k++) {
      this.i++;
      if (this.peek() !== word.charCodeAt(k)) this.fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    this.i++;
  }
}
