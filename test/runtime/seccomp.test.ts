import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { collect, RuntimeFixture } from './fixture.js';

// A static C program that makes the syscalls it is told to and prints "name=errno"; it needs gcc.
const probeSource = path.resolve('test/fixtures/seccomp-probe.c');
const hasGcc = (() => {
  try { execFileSync('gcc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
const EPERM = 1, ENOSYS = 38;

describe('runtime: seccomp profiles on real containers', () => {
  let fx: RuntimeFixture;
  let probe: string;
  before(async () => {
    fx = await RuntimeFixture.setup();
    probe = path.join(fx.dir, 'seccomp-probe');
    if (hasGcc) execFileSync('gcc', ['-static', '-O2', '-o', probe, probeSource]);
  });
  after(async () => { await fx.teardown(); });

  async function run(cmd: string, hostConfig = {}): Promise<{ code: number; out: string }> {
    const mounts = hasGcc ? [{ destination: '/probe', type: 'bind', source: probe, options: ['rbind', 'ro'] }] : [];
    const c = await fx.create({ Cmd: ['sh', '-c', `${cmd} 2>&1`] }, hostConfig, { mounts });
    const a = await fx.rt.attach(c.id);
    await fx.rt.start(c.id);
    const out = await collect(a.stdout);
    return { code: (await fx.rt.wait(c.id)).exitCode, out };
  }

  /** errno of each probe call inside a container with this HostConfig. */
  async function probeErrnos(calls: string[], hostConfig = {}): Promise<Record<string, number>> {
    const r = await run(`/probe ${calls.join(' ')}`, hostConfig);
    assert.equal(r.code, 0, r.out);
    return Object.fromEntries(r.out.trim().split('\n').map((l) => l.split('=')).map(([k, v]) => [k, Number(v)]));
  }

  it('the default profile blocks unshare -U but ordinary work runs', async () => {
    const r = await run('unshare -U true');
    assert.notEqual(r.code, 0);
    assert.match(r.out, /Operation not permitted/);
    const ok = await run('ls / >/dev/null && ps >/dev/null && mkdir /x && echo fine');
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /fine/);
  });

  it("syscalls Docker's default profile allows work, those it denies fail with EPERM (clone3: ENOSYS)", { skip: !hasGcc && 'gcc is not installed' }, async () => {
    const e = await probeErrnos(['getpid', 'clock_gettime', 'socket_inet', 'personality_linux', 'ptrace_traceme',
      'socket_alg', 'socket_vsock', 'personality_exec', 'keyctl', 'io_uring_setup', 'unshare_user', 'open_by_handle_at', 'clone3']);
    assert.deepEqual(e, {
      getpid: 0, clock_gettime: 0, socket_inet: 0, personality_linux: 0, ptrace_traceme: 0,
      socket_alg: EPERM, socket_vsock: EPERM, personality_exec: EPERM, keyctl: EPERM, io_uring_setup: EPERM,
      unshare_user: EPERM, open_by_handle_at: EPERM, clone3: ENOSYS,
    });
  });

  it('capabilities open their syscalls: SYS_ADMIN lets clone3 through, DAC_READ_SEARCH open_by_handle_at', { skip: !hasGcc && 'gcc is not installed' }, async () => {
    const e = await probeErrnos(['clone3', 'open_by_handle_at', 'keyctl'], { CapAdd: ['SYS_ADMIN', 'DAC_READ_SEARCH'] });
    // The kernel itself now answers: bad arguments, not the filter's EPERM/ENOSYS; keyctl stays denied.
    assert.notEqual(e.clone3, ENOSYS);
    assert.notEqual(e.open_by_handle_at, EPERM);
    assert.equal(e.keyctl, EPERM);
  });

  it('seccomp=unconfined lifts the filter', async () => {
    const r = await run('unshare -U true', { SecurityOpt: ['seccomp=unconfined'] });
    assert.equal(r.code, 0, r.out);
    if (hasGcc) {
      const e = await probeErrnos(['socket_alg', 'keyctl', 'clone3'], { SecurityOpt: ['seccomp=unconfined'] });
      assert.ok(e.socket_alg !== EPERM && e.keyctl !== EPERM && e.clone3 !== ENOSYS, JSON.stringify(e));
    }
  });

  // --privileged skips the default profile (spec unit test; real privileged containers in privileged.test.ts).
  it('a custom profile denying mkdir makes mkdir fail', async () => {
    const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    const r = await run('mkdir /x', { SecurityOpt: [`seccomp=${profile}`] });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /Operation not permitted/);
  });

  it('a bad profile is refused before anything is created', async () => {
    const before = fx.created.length;
    await assert.rejects(fx.create({ Cmd: ['true'] }, { SecurityOpt: ['seccomp={nope'] }), /Decoding seccomp profile failed/);
    const unknownAction = JSON.stringify({ defaultAction: 'SCMP_ACT_MAYBE' });
    await assert.rejects(fx.create({ Cmd: ['true'] }, { SecurityOpt: [`seccomp=${unknownAction}`] }), /string SCMP_ACT_MAYBE is not a valid action for seccomp/);
    assert.equal(fx.created.length, before);
  });
});
