import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { FakeDaemon, reply, switchProtocols } from './fake-daemon.js';

const ID = 'a'.repeat(64);
const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));
const haveScript = spawnSync('script', ['--version']).status === 0;

/**
 * `run -ti` in a real pseudo-terminal (util-linux `script`): raw bytes reach
 * the container, the terminal size is sent, Ctrl-P Ctrl-Q detaches with exit 0
 * and is not forwarded.
 */
test('run -ti: raw input, terminal size, detach keys', { skip: haveScript ? false : 'needs util-linux script' }, async () => {
  let attachSock: Socket | undefined;
  let received = Buffer.alloc(0);
  let onAttach!: () => void;
  const attached = new Promise<void>((r) => { onAttach = r; });
  const d = new FakeDaemon((req, res, socket) => {
    const route = `${req.method} ${req.path}`;
    if (route === 'GET /_ping') return reply(res, 200, 'OK');
    if (route === 'POST /containers/create') return reply(res, 201, { Id: ID });
    if (route === `POST /containers/${ID}/attach`) {
      switchProtocols(socket!);
      attachSock = socket!;
      socket!.on('data', (c: Buffer) => {
        received = Buffer.concat([received, c]);
        socket!.write(`ECHO:${c.toString('hex')}\r\n`);
      });
      return;
    }
    if (route === `POST /containers/${ID}/wait`) { res!.writeHead(200, { 'Content-Type': 'application/json' }); res!.flushHeaders(); return; }
    if (route === `POST /containers/${ID}/start`) { reply(res, 204); onAttach(); return; }
    if (route === `POST /containers/${ID}/resize`) return reply(res, 200);
    reply(res, 404, { message: 'page not found' });
  });
  await d.listen();
  const cmd = `stty rows 31 cols 101; ${process.execPath} ${BIN} -H ${d.host} run -ti busybox sh; echo "EXIT=$?"`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  const closed = new Promise<number | null>((r) => child.on('close', r));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    await attached;
    child.stdin.write('ab\x03');
    await waitFor(() => received.length >= 3);
    child.stdin.write('\x10\x11');
    await closed;
    assert.match(out, /EXIT=0/);
    // Raw mode: Ctrl-C arrives as a byte instead of killing berth; the detach keys never arrive.
    assert.equal(received.toString('hex'), '616203');
    assert.match(out, /ECHO:616203/);
    const resize = d.seen.find((s) => s.path === `/containers/${ID}/resize`);
    assert.deepEqual(resize?.query, { h: '31', w: '101' });
    const create = d.seen.find((s) => s.path === '/containers/create')!;
    assert.equal(create.body.Tty, true);
    assert.equal(create.body.OpenStdin, true);
    assert.equal(d.seen.find((s) => s.path.endsWith('/attach'))!.query.stdin, '1');
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    attachSock?.destroy();
    await d.close();
  }
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
