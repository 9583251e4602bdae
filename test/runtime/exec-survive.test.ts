import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../src/common/ids.js';
import { readLogs } from '../../src/engine/runtime/logs.js';
import { collect, RuntimeFixture } from './fixture.js';

describe('runtime: exec, logs of a live container, surviving the creator', () => {
  let fx: RuntimeFixture;
  before(async () => { fx = await RuntimeFixture.setup(); });
  after(async () => { await fx?.teardown(); });

  it('execs without a terminal: separate streams, env, cwd, user, exit code', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'], Env: ['A=container'] });
    await fx.rt.start(c.id);
    const s = await fx.rt.exec(c.id, newId(), {
      args: ['sh', '-c', 'echo out $A $B $(pwd) $(id -u); echo err >&2; exit 9'], env: ['B=exec'], cwd: '/tmp', user: 'alice',
    });
    assert.equal(s.stdin, null);
    const [out, err, exit] = await Promise.all([collect(s.stdout), collect(s.stderr), s.exited]);
    assert.equal(out, 'out container exec /tmp 1000\n');
    assert.equal(err, 'err\n');
    assert.deepEqual(exit, { exitCode: 9 });
  });

  it('exec pipes stdin and reports a missing command as 127', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'] });
    await fx.rt.start(c.id);
    const s = await fx.rt.exec(c.id, newId(), { args: ['tr', 'a-z', 'A-Z'], stdin: true });
    s.stdin!.end('shout\n');
    assert.equal(await collect(s.stdout), 'SHOUT\n');
    assert.equal((await s.exited).exitCode, 0);
    const bad = await fx.rt.exec(c.id, newId(), { args: ['nosuchcmd'] });
    await Promise.all([collect(bad.stdout), collect(bad.stderr)]);
    const exit = await bad.exited;
    assert.equal(exit.exitCode, 127);
    assert.match(exit.error?.message ?? '', /executable file not found/);
  });

  it('execs with a terminal through conmon, with resize', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'] });
    await fx.rt.start(c.id);
    const s = await fx.rt.exec(c.id, newId(), { args: ['sh', '-c', 'read x; stty size; echo term=$TERM; exit 4'], tty: true, stdin: true });
    await s.resize(40, 120);
    s.stdin!.write('go\n');
    const out = await collect(s.stdout);
    assert.match(out, /40 120\r\n/);
    assert.match(out, /term=xterm\r\n/);
    assert.equal((await s.exited).exitCode, 4);
    await assert.rejects(fx.rt.exec(c.id, newId(), { args: ['nosuchcmd'], tty: true }), (err: any) => {
      assert.equal(err.exitCode, 127);
      return true;
    });
  });

  it('refuses exec into a stopped container', async () => {
    const c = await fx.create({ Cmd: ['true'] });
    await fx.rt.start(c.id);
    await fx.rt.wait(c.id);
    await assert.rejects(fx.rt.exec(c.id, newId(), { args: ['true'] }), /is not running/);
    await assert.rejects(fx.rt.attach(c.id), /cannot attach/);
  });

  it('follows the log of a running container until it exits', async () => {
    const c = await fx.create({ Cmd: ['sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done'] });
    await fx.rt.start(c.id);
    const exited = fx.rt.wait(c.id);
    const lines: string[] = [];
    for await (const b of readLogs(c.logPath, { follow: true, stop: exited })) for (const e of b) lines.push(e.line.toString());
    assert.deepEqual(lines, ['line 1\n', 'line 2\n', 'line 3\n']);
    const tail: string[] = [];
    for await (const b of readLogs(c.logPath, { tail: 1 })) for (const e of b) tail.push(e.line.toString());
    assert.deepEqual(tail, ['line 3\n']);
  });

  it('keeps a container running when its creator is killed -9, and records its exit', async () => {
    const id = newId();
    fx.created.push(id);
    const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'creator-child.js');
    const logPath = fx.logPath(id);
    const p = spawn(process.execPath, [child, fx.rt.execRoot, fx.rootfs, logPath, id], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const info = await new Promise<{ pid: number; conmonPid: number; self: number }>((resolve, reject) => {
        let buf = '';
        p.stdout!.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(JSON.parse(buf)); });
        p.on('exit', (code) => reject(new Error(`creator exited early with ${code}`)));
      });
      const conmonStat = readFileSync(`/proc/${info.conmonPid}/stat`, 'utf8');
      const ppid = Number(conmonStat.slice(conmonStat.lastIndexOf(')') + 2).split(' ')[1]);
      assert.notEqual(ppid, info.self, 'conmon must not be a child of its creator');
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      assert.equal((await fx.rt.state(id)).status, 'running');
      const st = await fx.rt.wait(id);
      assert.equal(st.exitCode, 5);
      const lines: string[] = [];
      for await (const b of readLogs(logPath)) for (const e of b) lines.push(e.line.toString().trim());
      assert.deepEqual(lines, ['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
    } finally {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
  });
});
