import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { readCgroupStats } from '../../src/engine/runtime/cgroups.js';
import { CommandNotExecutable, CommandNotFound } from '../../src/engine/runtime/errors.js';
import { collect, RuntimeFixture } from './fixture.js';

describe('runtime: containers through conmon + runc', () => {
  let fx: RuntimeFixture;
  before(async () => { fx = await RuntimeFixture.setup(); });
  after(async () => { await fx?.teardown(); });

  it('streams stdout and stderr separately, records the exit code and logs', async () => {
    const c = await fx.create({ Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'] });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    const [out, err, status] = await Promise.all([collect(a.stdout), collect(a.stderr), fx.rt.wait(c.id)]);
    assert.equal(out, 'to-out\n');
    assert.equal(err, 'to-err\n');
    assert.equal(status.exitCode, 3);
    assert.equal(status.oomKilled, false);
    const log = await fs.readFile(c.logPath, 'utf8');
    assert.match(log, /^\S+ stdout F to-out$/m);
    assert.match(log, /^\S+ stderr F to-err$/m);
    const st = await fx.rt.state(c.id);
    assert.equal(st.status, 'stopped');
    assert.equal(st.exit?.exitCode, 3);
  });

  it('runs the command as PID 1 with env, cwd, hostname and user from the spec', async () => {
    const c = await fx.create({
      Cmd: ['sh', '-c', 'echo pid=$$; echo host=$(hostname); echo cwd=$(pwd); echo id=$(id -u):$(id -g):$(id -G); echo home=$HOME; echo foo=$FOO'],
      Env: ['FOO=bar'], WorkingDir: '/tmp', User: 'alice', Hostname: 'boxy',
    });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    const out = await collect(a.stdout);
    assert.equal((await fx.rt.wait(c.id)).exitCode, 0);
    assert.match(out, /^pid=1$/m);
    assert.match(out, /^host=boxy$/m);
    assert.match(out, /^cwd=\/tmp$/m);
    assert.match(out, /^id=1000:1000:1000 29 50$/m);
    assert.match(out, /^home=\/home\/alice$/m);
    assert.match(out, /^foo=bar$/m);
  });

  it('reports a missing command as CommandNotFound (127) and a non-executable one as 126', async () => {
    await assert.rejects(fx.create({ Cmd: ['nosuchcommand'] }), (err: any) => {
      assert.ok(err instanceof CommandNotFound, String(err));
      assert.equal(err.exitCode, 127);
      assert.match(err.message, /executable file not found/);
      return true;
    });
    await fs.writeFile(`${fx.rootfs}/notexec`, 'hello');
    await assert.rejects(fx.create({ Cmd: ['/notexec'] }), (err: any) => {
      assert.ok(err instanceof CommandNotExecutable, String(err));
      assert.equal(err.exitCode, 126);
      return true;
    });
  });

  it('kills with a signal and reports 128+n', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'] });
    await fx.rt.start(c.id);
    assert.equal((await fx.rt.state(c.id)).status, 'running');
    await fx.rt.kill(c.id, 'KILL');
    assert.equal((await fx.rt.wait(c.id)).exitCode, 128 + 9);
  });

  it('stop sends SIGTERM, then SIGKILL after the timeout', async () => {
    // sh as PID 1 ignores SIGTERM unless it traps it.
    const stubborn = await fx.create({ Cmd: ['sleep', '100'] });
    await fx.rt.start(stubborn.id);
    const t0 = Date.now();
    assert.equal((await fx.rt.stop(stubborn.id, { timeoutSeconds: 1 })).exitCode, 137);
    assert.ok(Date.now() - t0 >= 900);
    const polite = await fx.create({ Cmd: ['sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done'] });
    await fx.rt.start(polite.id);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await fx.rt.stop(polite.id, { timeoutSeconds: 10 })).exitCode, 42);
  });

  it('--init runs tini as PID 1, which forwards SIGTERM to the command', async () => {
    const c = await fx.create({ Cmd: ['sh', '-c', 'ps -o pid,args; exec sleep 100'] }, { Init: true });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    let out = '';
    await new Promise<void>((resolve) => a.stdout.on('data', (d) => { out += d; if (out.includes('ps -o')) resolve(); }));
    assert.match(out, /^\s*1 \/sbin\/docker-init -- sh -c/m);
    await fx.rt.kill(c.id, 'SIGTERM');
    assert.equal((await fx.rt.wait(c.id)).exitCode, 128 + 15);
  });

  it('applies cgroup limits under /berth/<id> and reports usage', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'] }, { Memory: 64 * 1024 * 1024, PidsLimit: 20 });
    await fx.rt.start(c.id);
    const stats = await readCgroupStats(`/berth/${c.id}`);
    assert.equal(stats.memoryLimit, 64 * 1024 * 1024);
    assert.ok((stats.memoryUsage ?? 0) > 0);
    assert.ok((stats.pids ?? 0) >= 1);
    await fx.rt.delete(c.id, { force: true });
  });

  it('records an OOM kill', async () => {
    const mem = 8 * 1024 * 1024;
    const c = await fx.create({ Cmd: ['sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo ${#x}'] }, { Memory: mem, MemorySwap: mem });
    await fx.rt.start(c.id);
    const st = await fx.rt.wait(c.id);
    assert.equal(st.oomKilled, true);
    assert.equal(st.exitCode, 137);
  });

  it('pauses and resumes (freezer)', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'] });
    await fx.rt.start(c.id);
    await fx.rt.pause(c.id);
    assert.equal((await fx.rt.state(c.id)).status, 'paused');
    await fx.rt.resume(c.id);
    assert.equal((await fx.rt.state(c.id)).status, 'running');
    await fx.rt.delete(c.id, { force: true });
    assert.equal((await fx.rt.state(c.id)).status, 'unknown');
  });

  it('refuses to delete a running container without force', async () => {
    const c = await fx.create({ Cmd: ['sleep', '100'] });
    await fx.rt.start(c.id);
    await assert.rejects(fx.rt.delete(c.id), /running/);
    await fx.rt.delete(c.id, { force: true });
  });

  it('pipes stdin to the container', async () => {
    const c = await fx.create({ Cmd: ['cat'], OpenStdin: true, StdinOnce: true }, {}, { openStdin: true, stdinOnce: true });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    a.stdin.write('hello ');
    a.stdin.end('world\n');
    const out = await collect(a.stdout);
    assert.equal(out, 'hello world\n');
    assert.equal((await fx.rt.wait(c.id)).exitCode, 0);
  });

  it('gives a terminal whose size follows resize', async () => {
    const c = await fx.create({ Cmd: ['sh', '-c', 'read x; stty size; tty'], Tty: true, OpenStdin: true }, {}, { openStdin: true });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    await fx.rt.resize(c.id, 31, 97);
    a.stdin.write('go\n');
    const out = await collect(a.stdout);
    assert.match(out, /31 97\r\n/);
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.equal((await fx.rt.wait(c.id)).exitCode, 0);
  });
});
