import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.js';

// The seed's `ps fx` shows the daemon as `/usr/bin/docker -d -p /var/run/docker.pid`.
test('berth -d -p PIDFILE runs the daemon and writes its pid', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-pid-'));
  const pidfile = path.join(dir, 'berth.pid');
  const d = await startTestDaemon(['-p', pidfile], { entry: 'berth -d' });
  try {
    assert.equal(readFileSync(pidfile, 'utf8').trim(), String(d.proc.pid));
    const cmdline = readFileSync(`/proc/${d.proc.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('-d'), cmdline.join(' '));
    const r = d.berth(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hello from berth -d']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from berth -d\n');
  } finally {
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
