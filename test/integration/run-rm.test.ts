import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventually, mountsUnder } from '../helpers/wait.js';
import { startTestDaemon } from '../helpers/daemon.js';

/**
 * `run --rm` returns as soon as the container is gone for clients; its
 * runtime state, mount and layer are freed right after, not before.
 */
test('run --rm: gone for clients when it returns, everything freed soon after', async (t) => {
  const d = await startTestDaemon();
  t.after(() => d.cleanup());
  const r = d.berth(['run', '--rm', '--name', 'rmme', 'busybox', 'sh', '-c', 'echo bye; exit 7']);
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'bye\n');
  assert.deepEqual((await d.api('GET', '/containers/json?all=1')).body, []);
  assert.equal((await d.api('GET', '/containers/rmme/json')).status, 404);
  assert.equal(d.berth(['run', '--rm', '--name', 'rmme', 'busybox', 'true']).code, 0, 'the name is free at once');
  await eventually('container dirs, mounts and runtime state to go', async () =>
    (await fs.readdir(path.join(d.dataRoot, 'containers'))).length === 0
    && mountsUnder(d.dataRoot).length === 0
    && (await fs.readdir(path.join(d.execRoot, 'runc')).catch(() => [])).length === 0);
});

test('a removal cut short by a daemon crash is finished at the next start', async (t) => {
  const d = await startTestDaemon();
  t.after(() => d.cleanup());
  assert.equal(d.berth(['create', '--name', 'halfgone', 'busybox', 'true']).code, 0);
  const id = (await d.api('GET', '/containers/halfgone/json')).body.Id as string;
  await d.crash();
  // What the disk holds when the daemon dies after marking the removal.
  const file = path.join(d.dataRoot, 'containers', id, 'record.json');
  const rec = JSON.parse(await fs.readFile(file, 'utf8'));
  rec.State.Status = 'removing';
  await fs.writeFile(file, JSON.stringify(rec));
  await d.restart();
  assert.equal((await d.api('GET', '/containers/halfgone/json')).status, 404);
  await fs.access(path.join(d.dataRoot, 'containers', id)).then(() => assert.fail('record dir still there'), () => undefined);
  assert.equal(d.berth(['create', '--name', 'halfgone', 'busybox', 'true']).code, 0, 'the name is free again');
});
