import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShellLex, envOf, envFromList, ExpandError } from './expand.js';

const env = envOf({ HOME: '/root', EMPTY: '', NAME: 'web app', FILE: 'archive.tar.gz', PATH: '/usr/bin:/bin' });
const lex = new ShellLex();
const word = (w: string) => lex.processWord(w, env).result;

test('plain and braced variables, unset is empty', () => {
  assert.equal(word('$HOME/bin'), '/root/bin');
  assert.equal(word('${HOME}bin'), '/rootbin');
  assert.equal(word('a${NOPE}b$NOPE'), 'ab');
  assert.equal(word('cost: $'), 'cost: $');
  assert.equal(word('$.x'), '$.x');
  assert.equal(word('$1x'), 'x', 'positional parameters are never set');
});

test('default and alternative forms distinguish unset from empty', () => {
  assert.equal(word('${NOPE:-d}'), 'd');
  assert.equal(word('${EMPTY:-d}'), 'd');
  assert.equal(word('${EMPTY-d}'), '');
  assert.equal(word('${NOPE-d}'), 'd');
  assert.equal(word('${HOME:-d}'), '/root');
  assert.equal(word('${HOME:+alt}'), 'alt');
  assert.equal(word('${EMPTY:+alt}'), '');
  assert.equal(word('${EMPTY+alt}'), 'alt');
  assert.equal(word('${NOPE+alt}'), '');
  assert.equal(word('${NOPE:-${HOME:-x}/y}'), '/root/y', 'nested');
});

test('required variables and pattern trimming', () => {
  assert.equal(word('${HOME?}'), '/root');
  assert.throws(() => word('${NOPE?must be set}'), /NOPE: must be set/);
  assert.throws(() => word('${EMPTY:?}'), /EMPTY: is not allowed to be empty/);
  assert.equal(word('${FILE%.*}'), 'archive.tar');
  assert.equal(word('${FILE%%.*}'), 'archive');
  assert.equal(word('${FILE#*.}'), 'tar.gz');
  assert.equal(word('${FILE##*.}'), 'gz');
  assert.equal(word('${PATH/bin/sbin}'), '/usr/sbin:/bin');
  assert.equal(word('${PATH//bin/sbin}'), '/usr/sbin:/sbin');
});

test('quotes: single quotes are literal, double quotes expand, both are removed', () => {
  assert.equal(word(`'$HOME'`), '$HOME');
  assert.equal(word(`"$HOME"`), '/root');
  assert.equal(word(`"it's" 'say "hi"'`), `it's say "hi"`);
  assert.equal(word(`a"b"'c'`), 'abc');
});

test('escapes: outside quotes any char, inside double quotes only " $ and the escape', () => {
  assert.equal(word('\\$HOME'), '$HOME');
  assert.equal(word('a\\ b'), 'a b');
  assert.equal(word('\\n'), 'n');
  assert.equal(word('"\\n\\$HOME\\""'), '\\n$HOME"');
  assert.equal(word(`'\\$HOME'`), '\\$HOME');
  assert.equal(word('end\\'), 'end', 'a trailing escape vanishes');
  const bt = new ShellLex({ escapeToken: '`' });
  assert.equal(bt.processWord('C:\\dir `$HOME', env).result, 'C:\\dir $HOME');
});

test('syntax errors name the word', () => {
  const cases: [string, string][] = [
    ['${HOME', `failed to process "\${HOME": syntax error: missing '}'`],
    ['${}', `failed to process "\${}": syntax error: bad substitution`],
    ['"open', 'failed to process "\\"open": unexpected end of statement while looking for matching double-quote'],
    [`'open`, `failed to process "'open": unexpected end of statement while looking for matching single-quote`],
    ['${HOME:=x}', 'failed to process "${HOME:=x}": unsupported modifier (:=) in substitution'],
  ];
  for (const [w, msg] of cases) {
    assert.throws(() => word(w), (e: unknown) => e instanceof ExpandError && e.message === msg, w);
  }
});

test('processWords splits unquoted expansions, keeps quoted ones whole', () => {
  assert.deepEqual(lex.processWords('80 "$NAME" $NAME', env), ['80', 'web app', 'web', 'app']);
  assert.deepEqual(lex.processWords('  a   b  ', env), ['a', 'b']);
  assert.deepEqual(lex.processWords('a\\ b c', env), ['a b', 'c']);
  assert.deepEqual(lex.processWords('$NOPE', env), []);
});

test('matched and unmatched variable names are reported', () => {
  const r = lex.processWord('$HOME ${NOPE:-x} $EMPTY', env);
  assert.deepEqual([...r.matched].sort(), ['EMPTY', 'HOME']);
  assert.deepEqual([...r.unmatched], ['NOPE']);
});

test('skipUnsetEnv leaves unknown variables as written', () => {
  const l = new ShellLex({ skipUnsetEnv: true });
  assert.equal(l.processWord('$A ${B} ${C:-d} $HOME', env).result, '$A ${B} ${C:-d} /root');
});

test('envFromList: later entries win, missing = means empty', () => {
  const e = envFromList(['A=1', 'B', 'A=2=3']);
  assert.equal(e.get('A'), '2=3');
  assert.equal(e.get('B'), '');
  assert.equal(e.get('C'), undefined);
});
