import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { berthBin, startTestDaemon } from '../helpers/daemon.js';

const haveScript = spawnSync('script', ['--version']).status === 0;
const haveDocker = spawnSync('docker', ['--version']).status === 0;

/**
 * Runs `cmd` in a pseudo-terminal (util-linux `script`) and returns what the
 * terminal showed. `closeInput` ends script's stdin at once, as `< /dev/null`
 * does; otherwise the input stays open until the command is done.
 */
async function inTerminal(cmd: string, closeInput: boolean): Promise<{ out: Buffer; code: number | null }> {
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  if (closeInput) child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  if (!child.stdin.destroyed) child.stdin.destroy();
  return { out: Buffer.concat(chunks), code };
}

/**
 * The "NUL at start" of `docker run -ti` against berthd is the terminal's,
 * not ours: `script` whose input is at EOF writes VEOF (^D) into the pty while
 * it is still canonical; the docker CLI then switches it to raw mode (TCSANOW)
 * and the pending EOF comes out of the line discipline as a 0x00 byte, which
 * the CLI sends as stdin and the container's terminal echoes as `^@`. Docker
 * 20.10 shows the same. With the input open, nothing but the output appears.
 */
test('docker run -ti through berthd shows exactly the container output in a terminal', { skip: !haveScript || !haveDocker ? 'needs util-linux script and the docker CLI' : false }, async (t) => {
  const d = await startTestDaemon();
  t.after(() => d.cleanup());
  const cmd = `docker -H ${d.host} run --rm -ti busybox sh -c 'echo hi-from-tty; exit 3'; echo "EXIT=$?"`;
  const { out } = await inTerminal(cmd, false);
  const text = out.toString('latin1');
  assert.ok(!out.includes(0), `no NUL byte in ${JSON.stringify(text)}`);
  assert.ok(!text.includes('^@'), `no echoed NUL in ${JSON.stringify(text)}`);
  assert.match(text, /^hi-from-tty\r\n/);
  assert.match(text, /EXIT=3/);
  const left = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(left.body, [], '--rm removed the container');
});

test('berth run -ti shows exactly the container output, also with input at EOF', { skip: !haveScript ? 'needs util-linux script' : false }, async (t) => {
  const d = await startTestDaemon();
  t.after(() => d.cleanup());
  for (const closeInput of [false, true]) {
    const { out } = await inTerminal(`${process.execPath} ${berthBin} -H ${d.host} run --rm -ti busybox echo hi-from-tty; echo "EXIT=$?"`, closeInput);
    // With the input at EOF the terminal may turn script's pending VEOF into a
    // NUL the container echoes as `^@`, as it does for the docker CLI (see the
    // test above): whether it does, and whether the echo lands before or after
    // the container's own output, is a race with our switch to raw mode.
    const text = out.toString('latin1').replace(closeInput ? /\^@|\0/ : /$^/, '');
    assert.ok(!text.includes('\0') && !text.includes('^@'), `no NUL (input ${closeInput ? 'closed' : 'open'}): ${JSON.stringify(text)}`);
    assert.match(text, /^hi-from-tty\r/);
    assert.match(text, /EXIT=0/);
  }
});
