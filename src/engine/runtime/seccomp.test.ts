import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { allCapabilities, defaultCapabilities } from './defaults.js';
import { defaultSeccomp, kernelVersion, seccompFromProfile, type HostInfo, type Seccomp } from './seccomp.js';
import { buildSpec } from './spec.js';

// Docker's default profile rewritten as compact rules (see its "source" field); read from the
// source tree because tsc does not copy JSON into dist/.
interface FixtureRule {
  names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; op: string }[];
  caps?: string[]; notCaps?: string[]; arches?: string[]; notArches?: string[]; minKernel?: string;
}
const docker = JSON.parse(readFileSync(new URL('../../../../test/fixtures/seccomp-docker-default.json', import.meta.url), 'utf8')) as {
  defaultAction: string; defaultErrnoRet: number; archMap: Record<string, string[]>; rules: FixtureRule[];
};

/** What Docker's rules give for these caps on this host, evaluated independently of seccomp.ts. */
function dockerExpected(caps: readonly string[], goArch: string, kernel: [number, number]): Seccomp {
  const has = (c: string) => caps.includes(c);
  const [kv, km] = kernel;
  const syscalls = docker.rules.filter((r) => {
    if (r.caps && !r.caps.every(has)) return false;
    if (r.notCaps && r.notCaps.some(has)) return false;
    if (r.arches && !r.arches.includes(goArch)) return false;
    if (r.notArches && r.notArches.includes(goArch)) return false;
    if (r.minKernel) {
      const [a, b] = r.minKernel.split('.').map(Number);
      if (kv < a || (kv === a && km < b)) return false;
    }
    return true;
  }).map(({ names, action, errnoRet, args }) => ({ names, action, errnoRet, args }));
  const native = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' }[goArch]!;
  return { defaultAction: docker.defaultAction, defaultErrnoRet: docker.defaultErrnoRet, architectures: [native, ...docker.archMap[native]], syscalls };
}

/** Per syscall, the set of (action, errno, args) it is filtered with: equal maps mean equivalent filters. */
function effective(s: Seccomp): Map<string, string[]> {
  const m = new Map<string, Set<string>>();
  for (const r of s.syscalls) {
    const key = JSON.stringify([r.action, r.errnoRet ?? null, (r.args ?? []).map((a) => [a.index, a.value, a.valueTwo ?? 0, a.op])]);
    for (const n of r.names) m.set(n, (m.get(n) ?? new Set()).add(key));
  }
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)).map(([n, k]) => [n, [...k].sort()]));
}

const capSets: Record<string, readonly string[]> = {
  'default caps': defaultCapabilities,
  '+SYS_ADMIN': [...defaultCapabilities, 'CAP_SYS_ADMIN'],
  '+SYS_PTRACE': [...defaultCapabilities, 'CAP_SYS_PTRACE'],
  '+SYS_MODULE +SYS_TIME +SYS_NICE': [...defaultCapabilities, 'CAP_SYS_MODULE', 'CAP_SYS_TIME', 'CAP_SYS_NICE'],
  '+DAC_READ_SEARCH +BPF +PERFMON +SYSLOG': [...defaultCapabilities, 'CAP_DAC_READ_SEARCH', 'CAP_BPF', 'CAP_PERFMON', 'CAP_SYSLOG'],
  'ALL': allCapabilities,
  'none': [],
};
const hosts: [string, HostInfo, string][] = [
  ['x86_64, kernel 6.18', { arch: 'x64', kernel: [6, 18] }, 'amd64'],
  ['x86_64, kernel 4.4', { arch: 'x64', kernel: [4, 4] }, 'amd64'],
  ['arm64, kernel 5.10', { arch: 'arm64', kernel: [5, 10] }, 'arm64'],
];

describe("seccomp: default profile against Docker's", () => {
  for (const [hostName, host, goArch] of hosts) {
    for (const [capName, caps] of Object.entries(capSets)) {
      it(`${capName} on ${hostName}: same rule for every syscall`, () => {
        const ours = defaultSeccomp(caps, host);
        const theirs = dockerExpected(caps, goArch, host.kernel!);
        assert.equal(ours.defaultAction, theirs.defaultAction);
        assert.equal(ours.defaultErrnoRet, theirs.defaultErrnoRet);
        assert.deepEqual(ours.architectures, theirs.architectures);
        assert.deepEqual(Object.fromEntries(effective(ours)), Object.fromEntries(effective(theirs)));
      });
    }
  }

  it('merges plain allow rules: one rule, each name once, so runc compiles less', () => {
    const s = defaultSeccomp(allCapabilities, { arch: 'x64', kernel: [6, 18] });
    const plain = s.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args);
    assert.equal(plain.length, 1);
    assert.equal(new Set(plain[0].names).size, plain[0].names.length);
    // Docker's own output lists ptrace, bpf, syslog… twice with these caps.
    const dockerRules = dockerExpected(allCapabilities, 'amd64', [6, 18]).syscalls;
    assert.ok(s.syscalls.length < dockerRules.length, `${s.syscalls.length} vs ${dockerRules.length}`);
  });

  it('key behaviours by name: clone3 ENOSYS, socket families, ptrace from 4.8', () => {
    const s = defaultSeccomp(defaultCapabilities, { arch: 'x64', kernel: [6, 1] });
    const e = effective(s);
    assert.deepEqual(e.get('clone3'), [JSON.stringify(['SCMP_ACT_ERRNO', 38, []])]);
    assert.deepEqual(e.get('socket')?.length, 3);
    assert.ok(e.has('ptrace') && e.has('arch_prctl') && e.has('io_setup'));
    for (const n of ['unshare', 'setns', 'mount', 'keyctl', 'bpf', 'init_module', 'kexec_load', 'userfaultfd', 'io_uring_setup', 'open_by_handle_at']) {
      assert.ok(!e.has(n), n);
    }
    assert.ok(!effective(defaultSeccomp(defaultCapabilities, { arch: 'x64', kernel: [4, 7] })).has('ptrace'));
  });

  it('reads the kernel version as Docker does (version and major revision only)', () => {
    assert.deepEqual(kernelVersion('6.18.44-fc-v782'), [6, 18]);
    assert.deepEqual(kernelVersion('3.12-1-amd64'), [3, 12]);
    assert.throws(() => kernelVersion('nonsense'), /failed to parse kernel version/);
  });
});

describe('seccomp: Docker-format profiles', () => {
  const x64: HostInfo = { arch: 'x64', kernel: [5, 4] };
  const load = (p: object, caps: string[] = []) => seccompFromProfile(JSON.stringify(p), caps, x64);

  it('converts names, includes/excludes by capability, arch and kernel, and archMap', () => {
    const s = load({
      defaultAction: 'SCMP_ACT_ERRNO',
      archMap: [{ architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }, { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { name: 'mount', action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['kill'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_KILL'] } },
        { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['future'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.5' } },
        { names: ['legacy'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { minKernel: '5.4' } },
        { names: ['old'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { minKernel: '5.5' } },
      ],
    }, ['CAP_KILL']);
    assert.deepEqual(s, {
      defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW' },
        { names: ['old'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      ],
    });
  });

  it("Docker's own default.json converts to what defaultSeccomp gives", () => {
    // The fixture back in Docker's includes/excludes form, through the custom-profile path.
    const profile = {
      defaultAction: docker.defaultAction, defaultErrnoRet: docker.defaultErrnoRet,
      archMap: Object.entries(docker.archMap).map(([architecture, subArchitectures]) => ({ architecture, subArchitectures })),
      syscalls: docker.rules.map((r) => ({
        names: r.names, action: r.action, errnoRet: r.errnoRet, args: r.args,
        includes: { caps: r.caps, arches: r.arches, minKernel: r.minKernel }, excludes: { caps: r.notCaps, arches: r.notArches },
      })),
    };
    for (const caps of Object.values(capSets)) {
      const custom = seccompFromProfile(JSON.stringify(profile), caps, x64)!;
      assert.deepEqual(Object.fromEntries(effective(custom)), Object.fromEntries(effective(defaultSeccomp(caps, x64))));
    }
  });

  it('an empty profile (or null) means no filter, as in Docker', () => {
    assert.equal(load({}), undefined);
    assert.equal(seccompFromProfile('null', [], x64), undefined);
  });

  it("refuses bad profiles with Docker's and runc's messages", () => {
    // Texts checked against Docker 20.10's daemon (and runc's, which Docker reaches only at start).
    assert.throws(() => seccompFromProfile('{nope', [], x64),
      { message: "Decoding seccomp profile failed: invalid character 'n' looking for beginning of object key string" });
    assert.throws(() => seccompFromProfile('[]', [], x64),
      { message: 'Decoding seccomp profile failed: json: cannot unmarshal array into Go value of type seccomp.Seccomp' });
    assert.throws(() => load({ defaultAction: 5 }),
      { message: 'Decoding seccomp profile failed: json: cannot unmarshal number into Go struct field Seccomp.defaultAction of type specs.LinuxSeccompAction' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: {} }),
      { message: 'Decoding seccomp profile failed: json: cannot unmarshal object into Go struct field Seccomp.syscalls of type []*seccomp.Syscall' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: ['x'] }),
      { message: 'Decoding seccomp profile failed: json: cannot unmarshal string into Go struct field Seccomp.syscalls of type seccomp.Syscall' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: 'read', action: 'SCMP_ACT_ALLOW' }] }),
      { message: 'Decoding seccomp profile failed: json: cannot unmarshal string into Go struct field Syscall.syscalls.names of type []string' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 1 }] }),
      { message: 'Decoding seccomp profile failed: json: cannot unmarshal number into Go struct field Syscall.syscalls.action of type specs.LinuxSeccompAction' });
    // Docker's daemon hangs the start on this one (nil rule); we refuse it.
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [null] }), /a syscalls entry is null/);
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_NOPE' }), { message: 'string SCMP_ACT_NOPE is not a valid action for seccomp' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'ALLOW' }] }),
      { message: 'string ALLOW is not a valid action for seccomp' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_Z80'] }),
      { message: 'string SCMP_ARCH_Z80 is not a valid arch for seccomp' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] }] }),
      { message: 'string SCMP_CMP_ABOUT is not a valid operator for seccomp' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }),
      { message: "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'" });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }),
      { message: "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'" });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] }),
      { message: 'Decoding seccomp profile failed: invalid kernel version: "4", expected "<kernel>.<major>"' });
    assert.throws(() => load({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '0.0' } }] }),
      { message: 'Decoding seccomp profile failed: invalid kernel version: "0.0", expected "<kernel>.<major>": version cannot be 0.0' });
  });

  it('buildSpec: default unless privileged or unconfined; a custom profile applies even when privileged', async () => {
    const base = { id: 'a'.repeat(64), rootfs: '/nonexistent', config: { Cmd: ['true'], User: '0' } } as any;
    assert.ok((await buildSpec({ ...base, hostConfig: {} })).spec.linux.seccomp);
    assert.equal((await buildSpec({ ...base, hostConfig: { Privileged: true } })).spec.linux.seccomp, undefined);
    assert.equal((await buildSpec({ ...base, hostConfig: { SecurityOpt: ['seccomp=unconfined'] } })).spec.linux.seccomp, undefined);
    const custom = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
    const s = (await buildSpec({ ...base, hostConfig: { Privileged: true, SecurityOpt: [`seccomp=${custom}`] } })).spec.linux.seccomp;
    assert.equal(s?.defaultAction, 'SCMP_ACT_ALLOW');
  });
});
