import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { ExitWatcher } from './exit-watch.js';

let dir: string;
let w: ExitWatcher;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-exits-'));
  w = new ExitWatcher(dir, 100);
});
after(async () => {
  w.close();
  await fs.rm(dir, { recursive: true, force: true });
});

test('a waiter learns the exit code when the exit file is written', { timeout: 5000 }, async () => {
  // The monitor stays alive throughout, so only the file's inotify event can wake the waiter.
  const waiting = w.wait('c1', dir, () => true);
  await new Promise((r) => setTimeout(r, 250));
  await fs.writeFile(path.join(dir, 'c1'), '3');
  const st = await waiting;
  assert.equal(st.exitCode, 3);
  assert.equal(st.oomKilled, false);
});

test('an exit already recorded is returned at once, with the OOM mark', async () => {
  const persist = path.join(dir, 'p2');
  await fs.mkdir(persist);
  await fs.writeFile(path.join(persist, 'oom'), '');
  await fs.writeFile(path.join(dir, 'c2'), '137');
  assert.deepEqual({ ...(await w.wait('c2', persist, () => true)), finishedAt: undefined }, { exitCode: 137, oomKilled: true, finishedAt: undefined });
});

test('waiters of monitors that died without an exit file get -1 from the one sweep; live ones keep waiting', async () => {
  let alive = true;
  const dead = w.wait('c3', dir, () => alive);
  const other = w.wait('c4', dir, () => true);
  let otherDone = false;
  void other.then(() => { otherDone = true; });
  alive = false;
  assert.equal((await dead).exitCode, -1);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(otherDone, false, 'a live monitor keeps its waiter waiting through sweeps');
  await fs.writeFile(path.join(dir, 'c4'), '0');
  assert.equal((await other).exitCode, 0);
});

test('an aborted wait rejects and leaves no listener behind', async () => {
  const ac = new AbortController();
  const waiting = w.wait('c5', dir, () => true, ac.signal);
  await new Promise((r) => setTimeout(r, 250));
  ac.abort(new Error('gave up'));
  await assert.rejects(waiting, /gave up/);
});
