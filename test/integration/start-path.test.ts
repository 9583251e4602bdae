import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { eventually, mountsUnder } from '../helpers/wait.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The start path prepares ahead: the rootfs is mounted behind create's
// answer, and conmon waits while the network is set up. What that must not
// change: a failed preparation leaves nothing running, and a container that
// never starts leaves no mount once removed.

function conmonsNaming(id: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'conmon' && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id)) out.push(Number(p));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(() => d?.cleanup());

test('a created container is mounted ahead of its start; removed unstarted, it leaves no mount or files', async () => {
  const c = await d.api('POST', '/containers/create?name=ahead', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(c.status, 201, c.text);
  await eventually('the rootfs to be mounted after create', () => mountsUnder(d.dataRoot).length === 1);
  assert.equal((await d.api('DELETE', `/containers/${c.body.Id}`)).status, 204);
  await eventually('mount and container dir to go', async () =>
    mountsUnder(d.dataRoot).length === 0 && (await fs.readdir(path.join(d.dataRoot, 'containers'))).length === 0);
});

test('a start whose network cannot be set up fails with the reason and leaves no conmon, bundle or runtime state', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const binding = { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } };
  const a = await d.api('POST', '/containers/create?name=holder', { Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: binding });
  assert.equal((await d.api('POST', `/containers/${a.body.Id}/start`)).status, 204);
  const b = await d.api('POST', '/containers/create?name=loser', { Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: binding });
  assert.equal(b.status, 201, b.text);
  const s = await d.api('POST', `/containers/${b.body.Id}/start`);
  assert.ok(s.status >= 400, s.text);
  assert.match(s.body.message, /port is already allocated/);
  const st = (await d.api('GET', `/containers/${b.body.Id}/json`)).body.State;
  assert.equal(st.Running, false);
  assert.equal(st.Status, 'created');
  await eventually('the waiting conmon to go', () => conmonsNaming(b.body.Id).length === 0, 5000);
  assert.equal(existsSync(path.join(d.execRoot, 'containers', b.body.Id)), false, 'no bundle left');
  assert.equal(existsSync(path.join(d.execRoot, 'runc', b.body.Id)), false, 'runc never created it');
  // The holder is untouched, and the loser starts once the port is free.
  assert.equal((await d.api('GET', `/containers/${a.body.Id}/json`)).body.State.Running, true);
  assert.equal((await d.api('DELETE', `/containers/${a.body.Id}?force=1`)).status, 204);
  const again = await d.api('POST', `/containers/${b.body.Id}/start`);
  assert.equal(again.status, 204, again.text);
  assert.equal(conmonsNaming(b.body.Id).length, 1);
  assert.equal((await d.api('DELETE', `/containers/${b.body.Id}?force=1`)).status, 204);
});
