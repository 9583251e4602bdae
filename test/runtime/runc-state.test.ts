import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deleteStopped, startViaExecFifo } from '../../src/engine/runtime/runc-state.js';
import { collect, RuntimeFixture } from './fixture.js';

/** What runc itself says about a container: its status, or undefined when it does not know it. */
function runcStatus(root: string, id: string): string | undefined {
  const r = spawnSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout).status : undefined;
}

function cgroupPaths(root: string, id: string): string[] {
  const st = JSON.parse(readFileSync(path.join(root, id, 'state.json'), 'utf8'));
  return Object.values(st.cgroup_paths as Record<string, string>);
}

describe('runtime: runc start and delete without spawning runc', () => {
  let fx: RuntimeFixture;
  before(async () => { fx = await RuntimeFixture.setup(); });
  after(async () => { await fx?.teardown(); });

  it('starts a created container through its exec fifo, as runc start does', async () => {
    const c = await fx.create({ Cmd: ['sh', '-c', 'echo started; sleep 1000'] });
    const root = fx.rt.oci.root;
    assert.equal(runcStatus(root, c.id), 'created');
    const out = await fx.rt.attach(c.id);
    assert.equal(await startViaExecFifo(root, c.id), true);
    assert.equal(runcStatus(root, c.id), 'running', 'runc sees it running: the fifo is gone');
    const first = await new Promise<string>((resolve) => out.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    assert.equal(first, 'started\n');
    assert.equal(await startViaExecFifo(root, c.id), false, 'a running container has no fifo: runc start must say why');
    await fx.rt.kill(c.id, 'KILL');
    assert.equal((await fx.rt.wait(c.id)).exitCode, 137);
    out.close();
  });

  it('deletes a stopped container: state and every cgroup gone, as runc delete leaves it', async () => {
    const c = await fx.create({ Cmd: ['true'] });
    const root = fx.rt.oci.root;
    const cgroups = cgroupPaths(root, c.id);
    assert.ok(cgroups.length > 0 && cgroups.every((d) => existsSync(d)), 'runc made the cgroups at create');
    await fx.rt.start(c.id);
    assert.equal((await fx.rt.wait(c.id)).exitCode, 0);
    assert.equal(await deleteStopped(root, c.id), true);
    assert.equal(runcStatus(root, c.id), undefined, 'runc no longer knows it');
    assert.deepEqual(cgroups.filter((d) => existsSync(d)), [], 'no cgroup left behind');
  });

  it('leaves a running container to runc, which refuses to delete it', async () => {
    const c = await fx.create({ Cmd: ['sleep', '1000'] });
    const root = fx.rt.oci.root;
    await fx.rt.start(c.id);
    assert.equal(await deleteStopped(root, c.id), false);
    assert.equal(runcStatus(root, c.id), 'running');
    await fx.rt.kill(c.id, 'KILL');
    await fx.rt.wait(c.id);
  });

  it('a container whose init died before start is not started, and runc gets to report it', async () => {
    const c = await fx.create({ Cmd: ['sleep', '1000'] });
    const root = fx.rt.oci.root;
    process.kill(c.pid, 'SIGKILL');
    await fx.rt.wait(c.id);
    const t0 = Date.now();
    assert.equal(await startViaExecFifo(root, c.id), false);
    assert.ok(Date.now() - t0 < 2000, 'gives up at once, does not wait for a writer that will never come');
    assert.equal(await startViaExecFifo(root, 'no-such-container'), false);
  });

  it('a command that exits at once counts as started, however its exit and our read interleave', async () => {
    // The init may write its byte, exec `true` and be gone before the fifo is read: the byte is still there.
    for (let i = 0; i < 12; i++) {
      const c = await fx.create({ Cmd: ['true'] });
      assert.equal(await startViaExecFifo(fx.rt.oci.root, c.id), true, `round ${i}`);
      assert.equal((await fx.rt.wait(c.id)).exitCode, 0);
      await fx.rt.delete(c.id);
    }
  });

  it('the runtime start goes through the fifo and the output of the first instant is kept', async () => {
    const c = await fx.create({ Cmd: ['echo', 'hello'] });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    assert.equal(await collect(a.stdout), 'hello\n');
    assert.equal((await fx.rt.wait(c.id)).exitCode, 0);
    await fx.rt.delete(c.id);
    assert.equal(runcStatus(fx.rt.oci.root, c.id), undefined);
  });
});
