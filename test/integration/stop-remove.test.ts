import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventually, mountsUnder } from '../helpers/wait.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// stop, rm -f and restart with the cleanup that now runs after the answer:
// timing of stop, ordering of a start after an exit, and nothing left behind.

let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(() => d?.cleanup());

async function runDetached(name: string, cmd: string[]): Promise<string> {
  const c = await d.api('POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: cmd });
  assert.equal(c.status, 201, c.text);
  const s = await d.api('POST', `/containers/${c.body.Id}/start`);
  assert.equal(s.status, 204, s.text);
  return c.body.Id;
}

test('stop of a PID 1 that ignores SIGTERM waits exactly its timeout, then kills', async () => {
  // `sleep` as PID 1 has no TERM handler, and the kernel drops such signals for a namespace's init.
  const id = await runDetached('deaf', ['sleep', '1000']);
  const t0 = Date.now();
  const r = await d.api('POST', `/containers/${id}/stop?t=1`);
  const took = Date.now() - t0;
  assert.equal(r.status, 204, r.text);
  assert.ok(took >= 1000, `returned after ${took} ms, before its 1 s timeout`);
  assert.ok(took < 2500, `took ${took} ms for a 1 s timeout`);
  const st = (await d.api('GET', `/containers/${id}/json`)).body.State;
  assert.equal(st.Running, false);
  assert.equal(st.ExitCode, 137);
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
});

test('stop of a process that exits on SIGTERM returns at its exit; a start right after runs it again', async () => {
  const id = await runDetached('polite', ['sh', '-c', "trap 'exit 0' TERM; echo trapped; sleep 1000 & wait"]);
  // Until sh has run `trap`, PID 1 has no TERM handler and the kernel drops the signal:
  // wait for the n-th run's "trapped" in the log before stopping it.
  const trapped = (n: number) => eventually(`run ${n} to set its TERM trap`,
    async () => (await d.api('GET', `/containers/${id}/logs?stdout=1`)).text.split('trapped').length - 1 >= n);
  await trapped(1);
  const t0 = Date.now();
  assert.equal((await d.api('POST', `/containers/${id}/stop?t=30`)).status, 204);
  assert.ok(Date.now() - t0 < 5000, 'did not wait for the timeout');
  assert.equal((await d.api('GET', `/containers/${id}/json`)).body.State.ExitCode, 0);
  // The last run's mount, network and runtime state may still be going: the start must wait for them, not fail.
  for (let i = 0; i < 3; i++) {
    const s = await d.api('POST', `/containers/${id}/start`);
    assert.equal(s.status, 204, s.text);
    const st = (await d.api('GET', `/containers/${id}/json`)).body.State;
    assert.equal(st.Running, true);
    await trapped(i + 2);
    assert.equal((await d.api('POST', `/containers/${id}/stop?t=30`)).status, 204);
  }
  const exec = await d.api('POST', `/containers/${id}/start`);
  assert.equal(exec.status, 204);
  const e = await d.api('POST', `/containers/${id}/exec`, { Cmd: ['true'] });
  assert.equal(e.status, 201, 'the restarted container runs and takes execs');
  assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
});

test('rm -f of many at once: gone for clients on return, runtime state, cgroups, mounts and files freed after', async () => {
  const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => runDetached(`many${i}`, ['sleep', '1000'])));
  const runcRoot = path.join(d.execRoot, 'runc');
  const cgroups = ids.flatMap((id) => Object.values(JSON.parse(readFileSync(path.join(runcRoot, id, 'state.json'), 'utf8')).cgroup_paths as Record<string, string>));
  assert.ok(cgroups.length >= ids.length);
  const res = await Promise.all(ids.map((id) => d.api('DELETE', `/containers/${id}?force=1`)));
  assert.deepEqual(res.map((r) => r.status), ids.map(() => 204));
  for (const id of ids) assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404);
  assert.equal((await d.api('POST', '/containers/create?name=many0', { Image: 'busybox', Cmd: ['true'] })).status, 201, 'names are free at once');
  await d.api('DELETE', '/containers/many0?force=1');
  const leftovers = async () => ({
    runc: await fs.readdir(runcRoot),
    cgroups: cgroups.filter((c) => existsSync(c)),
    mounts: mountsUnder(d.dataRoot),
    dirs: await fs.readdir(path.join(d.dataRoot, 'containers')),
  });
  await eventually('runtime state, cgroups, mounts and container dirs to go', async () => Object.values(await leftovers()).every((l) => l.length === 0))
    .catch(async (err) => { throw new Error(`${err.message}: ${JSON.stringify(await leftovers())}`); });
});
