import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goJsonKind, goJsonSyntaxError } from './go-json.js';

describe("go-json: Go encoding/json's syntax errors", () => {
  it('accepts what JSON.parse accepts', () => {
    for (const t of ['{}', ' [1, -2.5e+3, "a\\u00e9\\n", true, false, null] ', '{"a":{"b":[]}}', '0', '"x"']) {
      assert.equal(goJsonSyntaxError(t), undefined, t);
      assert.doesNotThrow(() => JSON.parse(t));
    }
  });

  it('names the first bad byte and where the scanner was, as Go does', () => {
    const cases: [string, string][] = [
      ['{nope', "invalid character 'n' looking for beginning of object key string"],
      ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
      ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
      ['[1 2]', "invalid character '2' after array element"],
      ['[1,]', "invalid character ']' looking for beginning of value"],
      ['01', "invalid character '1' after top-level value"],
      ['{} x', "invalid character 'x' after top-level value"],
      ['-a', "invalid character 'a' in numeric literal"],
      ['1.e', "invalid character 'e' after decimal point in numeric literal"],
      ['1ex', "invalid character 'x' in exponent of numeric literal"],
      ['"\\x"', "invalid character 'x' in string escape code"],
      ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
      ['"a\nb"', "invalid character '\\n' in string literal"],
      ['trux', "invalid character 'x' in literal true (expecting 'e')"],
      ['nil', "invalid character 'i' in literal null (expecting 'u')"],
      ['', 'unexpected end of JSON input'],
      ['[1,', 'unexpected end of JSON input'],
      ['{"a":"b', 'unexpected end of JSON input'],
    ];
    for (const [text, msg] of cases) assert.equal(goJsonSyntaxError(text), msg, JSON.stringify(text));
  });

  it("names kinds as Go's unmarshal errors do", () => {
    assert.deepEqual([[], {}, null, true, 1, 'x'].map(goJsonKind), ['array', 'object', 'null', 'bool', 'number', 'string']);
  });
});
