import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// DESIGN.md "Process model": containers outlive the daemon.
let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(async () => { await d?.cleanup(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('containers survive kill -9 of the daemon; exits meanwhile are recorded; always restarts', async () => {
  assert.equal(d.berth(['run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo line$i; sleep 0.1; done; sleep 1000']).code, 0);
  assert.equal(d.berth(['run', '-d', '--name', 'shortlived', 'busybox', 'sh', '-c', 'sleep 1; exit 7']).code, 0);
  assert.equal(d.berth(['run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1; exit 1']).code, 0);
  await sleep(300);
  await d.crash();
  await sleep(2500); // shortlived exits and phoenix dies while no daemon runs
  await d.restart();
  assert.equal(d.berth(['inspect', '-f', '{{.State.Running}}', 'counter']).stdout.trim(), 'true');
  const st = d.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'shortlived']).stdout.trim();
  assert.equal(st, 'exited 7');
  await sleep(1500);
  const logs = d.berth(['logs', 'counter']).stdout.trim().split('\n');
  assert.deepEqual(logs, Array.from({ length: 40 }, (_, i) => `line${i + 1}`));
  const restarts = Number(d.berth(['inspect', '-f', '{{.RestartCount}}', 'phoenix']).stdout.trim());
  assert.ok(restarts >= 1, `phoenix restarted ${restarts} times`);
});

test('a second daemon on the same data root refuses to start', async () => {
  const { spawnSync } = await import('node:child_process');
  const { repoRoot } = await import('../helpers/daemon.js');
  const r = spawnSync(process.execPath, [`${repoRoot}/dist/src/daemon/main.js`, '-H', `unix://${d.socket}2`, '--data-root', d.dataRoot, '--exec-root', d.execRoot], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /another berthd \(pid \d+\) is already using this data root/);
});
