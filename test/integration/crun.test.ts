import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crunRefusal } from '../../src/engine/runtime/runtime.js';
import { repoRoot, startTestDaemon } from '../helpers/daemon.js';

const haveCrun = spawnSync('crun', ['--version']).status === 0;
const refusal = haveCrun ? crunRefusal() : 'crun is not installed';

test('berthd --runtime crun runs, execs into and removes containers', { skip: refusal ? `crun cannot run here: ${refusal}` : false }, async (t) => {
  const d = await startTestDaemon(['--runtime', 'crun']);
  t.after(() => d.cleanup());
  const info = await d.api('GET', '/info');
  assert.equal(info.body.DefaultRuntime, 'crun');
  const fg = d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(fg.code, 3, fg.stderr);
  assert.equal(fg.stdout, 'out\n');
  assert.equal(fg.stderr, 'err\n');
  assert.equal(d.berth(['run', '-d', '--name', 'crun1', 'busybox', 'sleep', '100']).code, 0);
  // conmon runs crun for this daemon, not runc.
  const monitors = spawnSync('pgrep', ['-af', `conmon.*${d.execRoot}`], { encoding: 'utf8' }).stdout;
  assert.match(monitors, /-r \S*crun /);
  const ex = d.berth(['exec', 'crun1', 'sh', '-c', 'echo pid1=$(cat /proc/1/comm)']);
  assert.equal(ex.stdout, 'pid1=sleep\n', ex.stderr);
  assert.equal(d.berth(['rm', '-f', 'crun1']).code, 0);
  assert.deepEqual((await d.api('GET', '/containers/json?all=1')).body, []);
});

test('berthd --runtime crun refuses to start where crun cannot run, naming the reason', { skip: !haveCrun ? 'crun is not installed' : !refusal ? 'crun works on this host' : false }, async (t) => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bcrun-'));
  t.after(() => fs.rm(base, { recursive: true, force: true }));
  const sock = path.join(base, 'd.sock');
  const proc = spawn(process.execPath, [path.join(repoRoot, 'dist/src/daemon/main.js'), '-H', `unix://${sock}`, '--data-root', path.join(base, 'root'), '--exec-root', path.join(base, 'run'), '--runtime', 'crun'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (out += c));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => proc.on('close', r));
  clearTimeout(timer);
  assert.notEqual(code, 0);
  assert.match(out, /--runtime crun: crun 1\.8 refuses hybrid cgroup hosts .*; use --runtime runc on this host/);
  await assert.rejects(fs.access(sock), 'no API socket was opened');
  await assert.rejects(fs.access(path.join(base, 'root', 'image')), 'nothing was unpacked');
});
