import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './parser.js';
import { parseStages, parseGoDuration, type CopyInstruction, type CommandInstruction } from './instructions.js';
import { DockerfileError } from './errors.js';

function errorOf(fn: () => unknown, what = ''): DockerfileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DockerfileError, `expected DockerfileError, got ${e}`);
    return e;
  }
  assert.fail(`expected an error ${what}`);
}

test('instructions get their line numbers, comments and blank lines are skipped', () => {
  const { nodes } = parseDockerfile('# a comment\n\nFROM busybox\n   # indented comment\nRUN echo hi\n');
  assert.deepEqual(nodes.map((n) => [n.cmd, n.startLine, n.endLine]), [['FROM', 3, 3], ['RUN', 5, 5]]);
  assert.deepEqual(nodes[1].args, ['echo hi']);
});

test('line continuations join lines and keep the indentation of the next line', () => {
  const { nodes, warnings } = parseDockerfile('FROM x\nRUN apt-get update && \\\n    apt-get install -y nginx\nCMD ["a"]\n');
  assert.equal(nodes[1].original, 'RUN apt-get update &&     apt-get install -y nginx');
  assert.deepEqual([nodes[1].startLine, nodes[1].endLine, nodes[2].startLine], [2, 3, 4]);
  assert.deepEqual(warnings, []);
});

test('comment lines and empty lines inside a continuation are skipped; empty ones warn', () => {
  const { nodes, warnings } = parseDockerfile('FROM x\nRUN echo a \\\n# inner comment\n\n  b\nUSER me\n');
  assert.equal(nodes[1].args[0], 'echo a   b');
  assert.equal(nodes[1].endLine, 5);
  assert.equal(nodes[2].startLine, 6);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /Empty continuation line found in: RUN echo a {3}b/);
});

test('an escaped escape at the end of a line is not a continuation', () => {
  const { nodes } = parseDockerfile('FROM x\nRUN echo \\\\\nUSER u\n');
  assert.equal(nodes.length, 3);
  assert.equal(nodes[1].args[0], 'echo \\\\');
});

test('a continuation at the end of the file ends the instruction', () => {
  const { nodes } = parseDockerfile('FROM x\nRUN echo a \\');
  assert.equal(nodes[1].args[0], 'echo a');
});

test('the escape directive switches to backtick, only at the top', () => {
  const df = '# escape=`\nFROM x\nRUN dir c:\\ `\n  /w\n';
  const r = parseDockerfile(df);
  assert.equal(r.escapeToken, '`');
  assert.equal(r.nodes[1].args[0], 'dir c:\\   /w');
  // After an instruction, "# escape=" is an ordinary comment.
  const late = parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b\n');
  assert.equal(late.escapeToken, '\\');
  assert.equal(late.nodes[1].args[0], 'a  b');
  // An empty line or a plain comment ends the directive section too.
  assert.equal(parseDockerfile('\n# escape=`\nFROM x\n').escapeToken, '\\');
  assert.equal(parseDockerfile('# hello\n# escape=`\nFROM x\n').escapeToken, '\\');
  // Spacing and case are free; syntax is accepted and ignored.
  assert.equal(parseDockerfile('# syntax=docker/dockerfile:1\n#  ESCAPE = `\nFROM x\n').escapeToken, '`');
});

test('directive errors', () => {
  assert.match(errorOf(() => parseDockerfile('# escape=x\nFROM a\n')).message, /^Dockerfile:1: invalid escape token 'x' does not match ` or \\$/);
  assert.equal(errorOf(() => parseDockerfile('# escape=`\n# escape=\\\nFROM a\n')).message, 'Dockerfile:2: only one escape parser directive can be used');
});

test('JSON form versus shell form', () => {
  const { nodes } = parseDockerfile('FROM x\nCMD ["echo", "a b"]\nCMD echo ["x"]\nRUN ["broken",\nENTRYPOINT []\nCOPY ["a b", "/c d/"]\nCOPY a b /c/\n');
  assert.deepEqual([nodes[1].json, nodes[1].args], [true, ['echo', 'a b']]);
  assert.deepEqual([nodes[2].json, nodes[2].args], [false, ['echo ["x"]']]);
  assert.deepEqual([nodes[3].json, nodes[3].args], [false, ['["broken",']]);
  assert.deepEqual([nodes[4].json, nodes[4].args], [true, []]);
  assert.deepEqual(nodes[5].args, ['a b', '/c d/']);
  assert.deepEqual(nodes[6].args, ['a', 'b', '/c/']);
  assert.equal(errorOf(() => parseDockerfile('FROM x\nCMD ["a", 1]\n')).message,
    'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only');
});

test('flags are split off before the arguments, with quotes removed', () => {
  const { nodes } = parseDockerfile('FROM --platform=linux/amd64 x\nCOPY --from=build --chown="a b" src /dst\nRUN -- --not-a-flag\n');
  assert.deepEqual(nodes[0].flags, ['--platform=linux/amd64']);
  assert.deepEqual(nodes[1].flags, ['--from=build', '--chown=a b']);
  assert.deepEqual(nodes[1].args, ['src', '/dst']);
  assert.deepEqual(nodes[2].flags, []);
  assert.deepEqual(nodes[2].args, ['--not-a-flag']);
});

test('ENV and LABEL: key=value words keep their quotes for expansion; legacy form takes the rest of the line', () => {
  const { nodes } = parseDockerfile('FROM x\nENV a=b c="d e" f=g\\ h\nENV name  John Doe\nLABEL "com.x"="y z"\n');
  assert.deepEqual(nodes[1].args, ['a', 'b', '=', 'c', '"d e"', '=', 'f', 'g\\ h', '=']);
  assert.deepEqual(nodes[2].args, ['name', 'John Doe', '']);
  assert.deepEqual(nodes[3].args, ['"com.x"', '"y z"', '=']);
  assert.equal(errorOf(() => parseDockerfile('FROM x\n\nENV PATH\n')).message, 'Dockerfile:3: ENV must have two arguments');
  assert.equal(errorOf(() => parseDockerfile('FROM x\nENV a=b c\n')).message,
    'Dockerfile:2: Syntax error - can\'t find = in "c". Must be of the form: name=value');
});

test('heredocs: body, quoting, chomping, several at once and COPY sources', () => {
  const df = [
    'FROM x',
    'RUN <<EOF',
    'echo $HOME',
    'EOF',
    'RUN <<-"END" cat >/a && cat <<two >/b',
    '\t\tliteral $x',
    '\tEND',
    'second',
    'two',
    'COPY <<conf /etc/app.conf',
    'key=value',
    'conf',
    'RUN ["sh", "-c", "cat <<EOF"]',
    'USER me',
  ].join('\n') + '\n';
  const { nodes } = parseDockerfile(df);
  assert.deepEqual(nodes.map((n) => [n.cmd, n.startLine, n.endLine]),
    [['FROM', 1, 1], ['RUN', 2, 4], ['RUN', 5, 9], ['COPY', 10, 12], ['RUN', 13, 13], ['USER', 14, 14]]);
  assert.deepEqual(nodes[1].heredocs, [{ name: 'EOF', fd: 0, expand: true, chomp: false, content: 'echo $HOME\n' }]);
  assert.deepEqual(nodes[2].heredocs.map((h) => [h.name, h.expand, h.chomp, h.content]),
    [['END', false, true, '\t\tliteral $x\n'], ['two', true, false, 'second\n']]);
  assert.equal(nodes[4].heredocs.length, 0, 'JSON form has no heredocs');

  const st = parseStages(df).stages[0].commands;
  const run = st[0] as CommandInstruction;
  assert.deepEqual(run.cmd, ['<<EOF']);
  const copy = st[2] as CopyInstruction;
  assert.deepEqual(copy.sources, []);
  assert.deepEqual(copy.inline, [{ name: 'conf', data: 'key=value\n', expand: true }]);
  assert.equal(copy.dest, '/etc/app.conf');
});

test('heredoc under ONBUILD and fd prefix', () => {
  const { nodes } = parseDockerfile('FROM x\nONBUILD RUN 3<<EOF cat /dev/fd/3\nhi\nEOF\n');
  assert.equal(nodes[1].heredocs[0].fd, 3);
  assert.equal(nodes[1].heredocs[0].content, 'hi\n');
  const ins = parseStages('FROM x\nONBUILD RUN <<EOF\nhi\nEOF\n').stages[0].commands[0];
  assert.deepEqual(ins, { kind: 'ONBUILD', line: 2, endLine: 4, code: 'ONBUILD RUN <<EOF', expression: 'RUN <<EOF\nhi\nEOF' });
});

test('unterminated heredoc is reported at the instruction line', () => {
  assert.equal(errorOf(() => parseDockerfile('FROM x\nRUN <<EOF\necho\n')).message, 'Dockerfile:2: unterminated heredoc');
});

test('a heredoc-looking word that is not a heredoc (cat<<EOF, <<<) is left alone', () => {
  const { nodes } = parseDockerfile('FROM x\nRUN cat<<EOF\nUSER u\n');
  assert.equal(nodes.length, 3);
  assert.deepEqual(nodes[1].heredocs, []);
});

test('empty Dockerfile and only comments', () => {
  assert.match(errorOf(() => parseDockerfile('')).message, /file with no instructions/);
  assert.match(errorOf(() => parseDockerfile('# just\n# comments\n')).message, /file with no instructions/);
});

test('BOM and CRLF line endings', () => {
  const { nodes } = parseDockerfile('\uFEFFFROM x\r\nRUN a \\\r\n b\r\n');
  assert.equal(nodes[0].cmd, 'FROM');
  assert.equal(nodes[1].args[0], 'a  b');
});

test('stages, meta args and stage names', () => {
  const df = parseStages('ARG V=1\nARG B\nFROM busybox:$V AS Build\nRUN make\nfrom scratch\ncopy --from=build /a /b\n');
  assert.deepEqual(df.metaArgs.map((a) => a.args), [[{ key: 'V', value: '1' }], [{ key: 'B' }]]);
  assert.equal(df.stages.length, 2);
  assert.equal(df.stages[0].name, 'build');
  assert.equal(df.stages[0].from.base, 'busybox:$V');
  assert.equal(df.stages[1].from.code, 'from scratch');
  assert.equal((df.stages[1].commands[0] as CopyInstruction).from, 'build');
});

test('errors from typing instructions carry the line: unknown instruction, argument counts, flags', () => {
  const cases: [string, string][] = [
    ['FROM x\nRUNN echo\n', 'Dockerfile:2: unknown instruction: RUNN'],
    ['FROM a b\n', 'Dockerfile:1: FROM requires either one or three arguments'],
    ['FROM a AS 1x\n', 'Dockerfile:1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
    ['RUN x\n', 'Dockerfile:1: no build stage in current context'],
    ['FROM x\nCOPY onlyone\n', 'Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['FROM x\nCOPY --form=a b c\n', 'Dockerfile:2: unknown flag: --form'],
    ['FROM x\nCOPY --from a b\n', 'Dockerfile:2: missing a value on flag: --from'],
    ['FROM x\nCOPY --from=a --from=b c d\n', 'Dockerfile:2: duplicate flag specified: --from'],
    ['FROM x\nCOPY --link=maybe a b\n', 'Dockerfile:2: expecting boolean value for flag --link, not: maybe'],
    ['FROM x\nCOPY --from=$S a b\n', 'Dockerfile:2: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround'],
    ['FROM x\nRUN --mount=type=cache,target=/c make\n', 'Dockerfile:2: the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled'],
    ['FROM x\nENV\n', 'Dockerfile:2: ENV requires at least one argument'],
    ['FROM x\nUSER\n', 'Dockerfile:2: USER requires exactly one argument'],
    ['FROM x\nWORKDIR\n', 'Dockerfile:2: WORKDIR requires exactly one argument'],
    ['FROM x\nEXPOSE\n', 'Dockerfile:2: EXPOSE requires at least one argument'],
    ['FROM x\nSHELL /bin/bash -c\n', 'Dockerfile:2: SHELL requires the arguments to be in JSON form'],
    ['FROM x\nONBUILD ONBUILD RUN x\n', 'Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
    ['FROM x\nONBUILD FROM y\n', 'Dockerfile:2: FROM isn\'t allowed as an ONBUILD trigger'],
    ['FROM x\nHEALTHCHECK CMD\n', 'Dockerfile:2: Missing command after HEALTHCHECK CMD'],
    ['FROM x\nHEALTHCHECK NONE x\n', 'Dockerfile:2: HEALTHCHECK NONE takes no arguments'],
    ['FROM x\nHEALTHCHECK --interval=5 CMD true\n', 'Dockerfile:2: time: missing unit in duration "5"'],
    ['FROM x\nHEALTHCHECK WAIT true\n', 'Dockerfile:2: Unknown type "WAIT" in HEALTHCHECK (try CMD)'],
    ['FROM x\nARG =v\n', 'Dockerfile:2: ARG names can not be blank'],
    ['FROM x\nCOPY a <<EOF\nEOF\n', 'Dockerfile:2: COPY cannot accept a heredoc as a destination'],
    ['FROM x\nLABEL a=b \\\n  c=d\nENV x=1 \\\n\n  y\n', 'Dockerfile:4: Syntax error - can\'t find = in "y". Must be of the form: name=value'],
  ];
  for (const [df, msg] of cases) assert.equal(errorOf(() => parseStages(df), df).message, msg, df);
  const e = errorOf(() => parseStages('FROM x\nRUNN a\n', 'sub/Dockerfile.dev'));
  assert.deepEqual([e.file, e.line, e.detail, e.status], ['sub/Dockerfile.dev', 2, 'unknown instruction: RUNN', 400]);
});

test('every instruction types as the Dockerfile says', () => {
  const df = parseStages([
    'FROM --platform=linux/amd64 debian AS base',
    'MAINTAINER Victor Vieux <victor@docker.com>',
    'RUN ["/bin/echo", "x"]',
    'CMD echo hello',
    'ENTRYPOINT ["top", "-b"]',
    'LABEL a=1 b="2 3"',
    'EXPOSE 80/tcp 443 25',
    'ENV A=1',
    'ADD --chown=1:2 --chmod=640 a.tar /x/',
    'COPY --link a* b /dst/',
    'VOLUME ["/data", "/logs"]',
    'VOLUME /a /b',
    'USER 1000:1000',
    'WORKDIR /app',
    'ARG X Y=2',
    'ONBUILD COPY . /src',
    'STOPSIGNAL SIGKILL',
    'HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD curl -f http://x/ || exit 1',
    'HEALTHCHECK NONE',
    'SHELL ["/bin/bash", "-c"]',
  ].join('\n'));
  const [st] = df.stages;
  assert.deepEqual(st.from, { kind: 'FROM', line: 1, endLine: 1, code: 'FROM --platform=linux/amd64 debian AS base', base: 'debian', stage: 'base', platform: 'linux/amd64' });
  const c = st.commands;
  const pick = (i: number) => { const { line, endLine, code, ...rest } = c[i] as any; void line; void endLine; void code; return rest; };
  assert.deepEqual(pick(0), { kind: 'MAINTAINER', maintainer: 'Victor Vieux <victor@docker.com>' });
  assert.deepEqual(pick(1), { kind: 'RUN', cmd: ['/bin/echo', 'x'], shellForm: false, heredocs: [] });
  assert.deepEqual(pick(2), { kind: 'CMD', cmd: ['echo hello'], shellForm: true, heredocs: [] });
  assert.deepEqual(pick(3), { kind: 'ENTRYPOINT', cmd: ['top', '-b'], shellForm: false, heredocs: [] });
  assert.deepEqual(pick(4), { kind: 'LABEL', pairs: [{ key: 'a', value: '1' }, { key: 'b', value: '"2 3"' }] });
  assert.deepEqual(pick(5), { kind: 'EXPOSE', ports: ['25', '443', '80/tcp'] });
  assert.deepEqual(pick(7), { kind: 'ADD', sources: ['a.tar'], inline: [], dest: '/x/', from: undefined, link: false, chown: '1:2', chmod: '640' });
  assert.deepEqual(pick(8), { kind: 'COPY', sources: ['a*', 'b'], inline: [], dest: '/dst/', from: undefined, link: true, chown: undefined, chmod: undefined });
  assert.deepEqual(pick(9), { kind: 'VOLUME', paths: ['/data', '/logs'] });
  assert.deepEqual(pick(10), { kind: 'VOLUME', paths: ['/a', '/b'] });
  assert.deepEqual(pick(11), { kind: 'USER', user: '1000:1000' });
  assert.deepEqual(pick(12), { kind: 'WORKDIR', path: '/app' });
  assert.deepEqual(pick(13), { kind: 'ARG', args: [{ key: 'X' }, { key: 'Y', value: '2' }] });
  assert.deepEqual(pick(14), { kind: 'ONBUILD', expression: 'COPY . /src' });
  assert.deepEqual(pick(15), { kind: 'STOPSIGNAL', signal: 'SIGKILL' });
  assert.deepEqual(pick(16), { kind: 'HEALTHCHECK', health: { Test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'], Interval: 90e9, Timeout: 500e6, StartPeriod: 0, StartInterval: 0, Retries: 3 } });
  assert.deepEqual(pick(17), { kind: 'HEALTHCHECK', health: { Test: ['NONE'] } });
  assert.deepEqual(pick(18), { kind: 'SHELL', shell: ['/bin/bash', '-c'] });
});

test('Go durations', () => {
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('.5s'), 0.5e9);
  assert.throws(() => parseGoDuration('3x'), /time: unknown unit "x" in duration "3x"/);
  assert.throws(() => parseGoDuration('s'), /time: invalid duration "s"/);
});
