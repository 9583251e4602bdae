import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../src/common/ids.js';
import { buildSpec } from '../../src/engine/runtime/spec.js';
import type { Spec } from '../../src/engine/runtime/oci-spec.js';
import { collect, RuntimeFixture } from './fixture.js';

/** conmon processes (by /proc) whose command line names `id`. */
function conmonsFor(id: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'conmon') continue;
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id)) out.push(Number(p));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

// create() given a promise of the spec: conmon is started and waits while the
// caller still prepares (start mounts and sets up the network meanwhile).
describe('runtime: create with the spec still coming', () => {
  let fx: RuntimeFixture;
  before(async () => { fx = await RuntimeFixture.setup(); });
  after(async () => { await fx?.teardown(); });

  const specFor = async (id: string, cmd: string[], tty = false) =>
    (await buildSpec({ id, config: { Cmd: cmd, Tty: tty }, hostConfig: {}, rootfs: fx.rootfs, image: { Cmd: ['sh'] } })).spec as Spec;

  it('runs the container once the spec arrives, conmon having waited for it', async () => {
    const id = newId();
    fx.created.push(id);
    let give!: (s: Spec) => void;
    const spec = new Promise<Spec>((r) => { give = r; });
    const creating = fx.rt.create(id, { spec, tty: false, logPath: fx.logPath(id) });
    // conmon is up (it has not forked, so it is our child) before the spec exists.
    const deadline = Date.now() + 5000;
    while (conmonsFor(id).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(conmonsFor(id).length, 1, 'conmon started ahead of the spec');
    assert.equal(existsSync(path.join(fx.rt.bundle(id), 'config.json')), false, 'no spec written yet');
    give(await specFor(id, ['echo', 'ahead']));
    const res = await creating;
    assert.ok(res.pid > 0 && res.conmonPid > 0);
    const a = await fx.rt.attach(id);
    await fx.rt.start(id);
    const [out, status] = await Promise.all([collect(a.stdout), fx.rt.wait(id)]);
    assert.equal(out, 'ahead\n');
    assert.equal(status.exitCode, 0);
  });

  it('a spec that cannot be prepared fails the create with its own error and leaves no conmon, bundle or runtime state', async () => {
    const id = newId();
    fx.created.push(id);
    let fail!: (e: Error) => void;
    const spec = new Promise<Spec>((_r, j) => { fail = j; });
    const creating = fx.rt.create(id, { spec, tty: false, logPath: fx.logPath(id) });
    const deadline = Date.now() + 5000;
    while (conmonsFor(id).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(conmonsFor(id).length, 1, 'conmon was waiting');
    fail(new Error('Bind for 127.0.0.1:8080 failed: port is already allocated'));
    await assert.rejects(creating, /port is already allocated/);
    const gone = Date.now() + 5000;
    while (conmonsFor(id).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(conmonsFor(id), [], 'the waiting conmon is gone');
    assert.equal(existsSync(fx.rt.bundle(id)), false, 'bundle removed');
    assert.equal(existsSync(path.join(fx.rt.oci.root, id)), false, 'the OCI runtime never heard of it');
    assert.equal((await fx.rt.state(id)).status, 'unknown');
  });

  it('refuses a spec whose terminal differs from the one announced, leaving nothing', async () => {
    const id = newId();
    fx.created.push(id);
    await assert.rejects(fx.rt.create(id, { spec: specFor(id, ['true'], true), tty: false, logPath: fx.logPath(id) }), /terminal/);
    // A killed child lingers as a zombie until Node reaps it.
    const gone = Date.now() + 5000;
    while (conmonsFor(id).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(conmonsFor(id), []);
    assert.equal(existsSync(fx.rt.bundle(id)), false);
  });
});
