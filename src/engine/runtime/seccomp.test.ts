import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSeccomp, seccompFromProfile } from './seccomp.js';
import { buildSpec } from './spec.js';

const allowedNames = (s: ReturnType<typeof defaultSeccomp>) =>
  new Set(s.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));

describe('seccomp: default profile', () => {
  it('blocks namespace and admin calls without capabilities, conditions clone, ENOSYS for clone3', () => {
    const s = defaultSeccomp(['CAP_CHOWN'], 'x64');
    assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(s.defaultErrnoRet, 1);
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const names = allowedNames(s);
    for (const n of ['unshare', 'setns', 'mount', 'keyctl', 'bpf', 'ptrace', 'init_module', 'kexec_load', 'userfaultfd']) assert.ok(!names.has(n), n);
    assert.ok(names.has('read') && names.has('execve'));
    assert.equal(s.syscalls.find((r) => r.names.includes('clone3'))?.errnoRet, 38);
    assert.equal(s.syscalls.find((r) => r.names[0] === 'clone')?.args?.[0].op, 'SCMP_CMP_MASKED_EQ');
  });

  it('adds the set each granted capability unlocks', () => {
    const names = allowedNames(defaultSeccomp(['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_TIME'], 'x64'));
    for (const n of ['unshare', 'setns', 'mount', 'clone', 'clone3', 'ptrace', 'settimeofday']) assert.ok(names.has(n), n);
    assert.ok(!names.has('init_module'));
  });
});

describe('seccomp: Docker-format profiles', () => {
  it('converts names, includes/excludes by capability and archMap', () => {
    const s = seccompFromProfile(JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { name: 'mount', action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['kill'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_KILL'] } },
      ],
    }), ['CAP_KILL'], 'x64');
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.deepEqual(s.syscalls, [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }]);
  });

  it("refuses malformed JSON with Docker's message", () => {
    assert.throws(() => seccompFromProfile('{nope', []), /Decoding seccomp profile failed/);
  });

  it('buildSpec: default unless privileged or unconfined', async () => {
    const base = { id: 'a'.repeat(64), rootfs: '/nonexistent', config: { Cmd: ['true'], User: '0' } } as any;
    assert.ok((await buildSpec({ ...base, hostConfig: {} })).spec.linux.seccomp);
    assert.equal((await buildSpec({ ...base, hostConfig: { Privileged: true } })).spec.linux.seccomp, undefined);
    assert.equal((await buildSpec({ ...base, hostConfig: { SecurityOpt: ['seccomp=unconfined'] } })).spec.linux.seccomp, undefined);
  });
});
