import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { collect, RuntimeFixture } from './fixture.js';

/** The capability masks of a /proc/<pid>/status text, by field name. */
function capMasks(status: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const m of status.matchAll(/^(Cap\w+):\s*([0-9a-f]+)$/gm)) out[m[1]] = BigInt(`0x${m[2]}`);
  return out;
}

describe('runtime: --privileged on a real container', () => {
  let fx: RuntimeFixture;
  before(async () => { fx = await RuntimeFixture.setup(); });
  after(async () => { await fx.teardown(); });

  async function run(cmd: string, hostConfig = {}): Promise<{ code: number; out: string }> {
    const c = await fx.create({ Cmd: ['sh', '-c', `${cmd} 2>&1`] }, hostConfig);
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    const out = await collect(a.stdout);
    return { code: (await fx.rt.wait(c.id)).exitCode, out };
  }

  it('starts with every capability the daemon itself holds, and no seccomp filter', async () => {
    const r = await run('cat /proc/self/status');
    const host = capMasks(readFileSync('/proc/self/status', 'utf8'));
    const priv = await run('cat /proc/self/status', { Privileged: true });
    assert.equal(priv.code, 0, priv.out);
    const caps = capMasks(priv.out);
    assert.equal(caps.CapEff, host.CapBnd, 'effective set = the daemon\'s bounding set');
    assert.equal(caps.CapBnd, host.CapBnd);
    assert.match(priv.out, /^Seccomp:\s*0$/m);
    // The ordinary container next to it stays confined.
    assert.equal(r.code, 0, r.out);
    assert.ok(capMasks(r.out).CapEff < host.CapBnd);
    assert.match(r.out, /^Seccomp:\s*2$/m);
  });

  it('cap-add ALL starts too (same set, seccomp stays on)', async () => {
    const r = await run('grep -E "^(CapEff|Seccomp):" /proc/self/status', { CapAdd: ['ALL'] });
    assert.equal(r.code, 0, r.out);
    assert.equal(capMasks(r.out).CapEff, capMasks(readFileSync('/proc/self/status', 'utf8')).CapBnd);
  });
});
