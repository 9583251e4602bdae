import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The seed's "Docker run" section, through the berth CLI against a real daemon.
let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(async () => { await d?.cleanup(); });

test('run prints the command output and exits with its code', () => {
  const r = d.berth(['run', '--rm', 'busybox', 'echo', 'hello world']);
  assert.equal(r.stdout, 'hello world\n', r.stderr);
  assert.equal(r.code, 0);
  const e = d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(e.stdout, 'out\n');
  assert.equal(e.stderr, 'err\n');
  assert.equal(e.code, 3);
});

test('the command is PID 1 in its own namespaces', () => {
  const r = d.berth(['run', '--rm', 'busybox', 'ps', '-o', 'pid,args']);
  const lines = r.stdout.trim().split('\n').slice(1).map((l) => l.trim());
  assert.deepEqual(lines, ['1 ps -o pid,args'], r.stdout + r.stderr);
  const h = d.berth(['run', '--rm', '-h', 'boxhost', 'busybox', 'hostname']);
  assert.equal(h.stdout.trim(), 'boxhost');
});

test('env, workdir and user flags reach the process', () => {
  const r = d.berth(['run', '--rm', '-e', 'SYMFONY_ENV=prod', '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo $SYMFONY_ENV $(pwd) $(id -u)']);
  assert.equal(r.stdout.trim(), 'prod /tmp 65534', r.stderr);
  const env = d.berth(['run', '--rm', 'busybox', 'env']).stdout;
  assert.match(env, /^PATH=\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin$/m);
  assert.match(env, /^HOSTNAME=[0-9a-f]{12}$/m);
  assert.match(env, /^HOME=\/root$/m);
});

test('stdin is piped with -i', () => {
  const r = d.berth(['run', '--rm', '-i', 'busybox', 'tr', 'a-z', 'A-Z'], { input: 'hello\nberth\n' });
  assert.equal(r.stdout, 'HELLO\nBERTH\n', r.stderr);
});

test('errors: unknown image 125, missing command 127, not executable 126', () => {
  const img = d.berth(['run', '--rm', 'nosuchimage']);
  assert.equal(img.code, 125);
  assert.match(img.stderr, /Unable to find image 'nosuchimage:latest' locally/);
  const missing = d.berth(['run', '--rm', 'busybox', 'nosuchcommand']);
  assert.equal(missing.code, 127, missing.stderr);
  assert.match(missing.stderr, /nosuchcommand/);
  const notExec = d.berth(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(notExec.code, 126, notExec.stderr);
  const badFlag = d.berth(['run', '--no-such-flag', 'busybox']);
  assert.equal(badFlag.code, 125);
});

test('detached containers: ps, logs, exec, stop, rm', () => {
  const run = d.berth(['run', '-d', '--name', 'webapp', 'busybox', 'sh', '-c', 'echo started; while true; do sleep 1; done']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = d.berth(['ps']);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo st.*Up .*webapp$`, 'm'));
  assert.equal(d.berth(['ps', '-q']).stdout.trim(), id.slice(0, 12));
  assert.equal(d.berth(['ps', '--format', '{{.Names}}']).stdout.trim(), 'webapp');
  for (let i = 0; i < 50 && !d.berth(['logs', 'webapp']).stdout.includes('started'); i++) spawnSleep(100);
  assert.equal(d.berth(['logs', 'webapp']).stdout, 'started\n');
  const ex = d.berth(['exec', 'webapp', 'sh', '-c', 'echo in-$HOSTNAME; exit 4']);
  assert.equal(ex.stdout.trim(), `in-${id.slice(0, 12)}`);
  assert.equal(ex.code, 4);
  const dup = d.berth(['run', '-d', '--name', 'webapp', 'busybox', 'true']);
  assert.equal(dup.code, 125);
  assert.match(dup.stderr, /Conflict\. The container name "\/webapp" is already in use/);
  const rmRunning = d.berth(['rm', 'webapp']);
  assert.notEqual(rmRunning.code, 0);
  assert.match(rmRunning.stderr, /Error response from daemon: .*container is running/);
  assert.equal(d.berth(['stop', '-t', '1', 'webapp']).code, 0);
  assert.match(d.berth(['ps', '-a', '--filter', 'name=webapp', '--format', '{{.Status}}']).stdout, /^Exited \(\d+\) /);
  assert.equal(d.berth(['rm', 'webapp']).code, 0);
  const gone = d.berth(['inspect', 'webapp']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such (container|object): webapp/);
});

test('inspect, top, pause and unpause', () => {
  d.berth(['run', '-d', '--name', 'pausable', 'busybox', 'sleep', '1000']);
  assert.equal(d.berth(['inspect', '-f', '{{.State.Running}} {{.Config.Image}}', 'pausable']).stdout.trim(), 'true busybox');
  const top = d.berth(['top', 'pausable']);
  assert.match(top.stdout, /sleep 1000/);
  assert.equal(d.berth(['pause', 'pausable']).code, 0);
  assert.equal(d.berth(['inspect', '-f', '{{.State.Status}}', 'pausable']).stdout.trim(), 'paused');
  assert.equal(d.berth(['unpause', 'pausable']).code, 0);
  assert.equal(d.berth(['inspect', '-f', '{{.State.Status}}', 'pausable']).stdout.trim(), 'running');
  assert.equal(d.berth(['rm', '-f', 'pausable']).code, 0);
});

function spawnSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
