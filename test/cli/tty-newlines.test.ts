import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { FakeDaemon, reply, switchProtocols } from './fake-daemon.js';

const ID = 'b'.repeat(64);
const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));
const haveScript = spawnSync('script', ['--version']).status === 0;

/**
 * A container with a terminal writes `hi\r\n` (its pty already turned `\n`
 * into `\r\n`). What reaches our terminal, run in a real pseudo-terminal
 * (util-linux `script`), is what `docker run` shows there: with `-ti` the
 * local terminal is raw and passes `\r\n` through; with `-t` alone it stays
 * cooked, so its own ONLCR makes `\r\r\n`, as with docker.
 */
async function runInTerminal(flags: string): Promise<{ out: string; sttyAfter: string }> {
  let waitRes: ServerResponse | undefined;
  let attachSock: Socket | undefined;
  const d = new FakeDaemon((req, res, socket) => {
    const route = `${req.method} ${req.path}`;
    if (route === 'GET /_ping') return reply(res, 200, 'OK');
    if (route === 'POST /containers/create') return reply(res, 201, { Id: ID });
    if (route === `POST /containers/${ID}/attach`) { switchProtocols(socket!); attachSock = socket!; return; }
    if (route === `POST /containers/${ID}/wait`) { waitRes = res!; res!.writeHead(200, { 'Content-Type': 'application/json' }); res!.flushHeaders(); return; }
    if (route === `POST /containers/${ID}/start`) {
      reply(res, 204);
      attachSock!.end('hi\r\n');
      waitRes?.end('{"StatusCode":0}');
      return;
    }
    if (route === `POST /containers/${ID}/resize`) return reply(res, 200);
    reply(res, 404, { message: 'page not found' });
  });
  await d.listen();
  // stty afterwards: berth must hand the terminal back with output processing on.
  const cmd = `${process.execPath} ${BIN} -H ${d.host} run ${flags} busybox echo hi; echo "EXIT=$?"; stty -a | grep -o -- '-\\?opost'`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    await new Promise((r) => child.on('close', r));
    const i = out.indexOf('EXIT=');
    return { out: out.slice(0, i), sttyAfter: out.slice(i) };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    attachSock?.destroy();
    await d.close();
  }
}

test('run -ti: container output keeps its \\r\\n line ends (no \\r\\r\\n); the terminal gets opost back', { skip: haveScript ? false : 'needs util-linux script' }, async () => {
  const r = await runInTerminal('-ti');
  assert.equal(JSON.stringify(r.out), JSON.stringify('hi\r\n'));
  assert.match(r.sttyAfter, /EXIT=0/);
  assert.match(r.sttyAfter, /(^|[^-])opost/);
});

test('run -t without -i leaves the terminal cooked, as docker does: \\r\\r\\n', { skip: haveScript ? false : 'needs util-linux script' }, async () => {
  const r = await runInTerminal('-t');
  assert.equal(JSON.stringify(r.out), JSON.stringify('hi\r\r\n'));
  assert.match(r.sttyAfter, /EXIT=0/);
});
