import os from 'node:os';
import { InvalidArgument } from '../../common/errors.js';
import { goJsonKind, goJsonSyntaxError } from '../../common/go-json.js';

/** The OCI `linux.seccomp` object runc reads. */
export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls: SeccompRule[];
}
export interface SeccompArg { index: number; value: number; valueTwo?: number; op: string }
export interface SeccompRule { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }

const EPERM = 1;
const ENOSYS = 38;
// Namespace flags clone() must not carry without CAP_SYS_ADMIN (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET).
const CLONE_NS_MASK = 0x7e020000;
// socket() families Docker refuses: AF_ALG (38, kernel crypto) and AF_VSOCK (40, host sockets).
const AF_ALG = 38, AF_NFC = 39, AF_VSOCK = 40;

/**
 * One rule of Docker's default profile. `when` holds its includes/excludes:
 * the rule applies only if every `caps` entry was granted, none of `notCaps`
 * was, the host's architecture (Go naming: amd64, arm64…) is in `arches` and
 * not in `notArches`, and the kernel is at least `minKernel`.
 */
interface DefaultRule {
  names: string[];
  errnoRet?: number; // action ERRNO with this errno; ALLOW otherwise
  args?: SeccompArg[];
  when?: { caps?: string[]; notCaps?: string[]; arches?: string[]; notArches?: string[]; minKernel?: [number, number] };
}

const words = (s: string) => s.trim().split(/\s+/);
const argEq = (index: number, value: number, op = 'SCMP_CMP_EQ'): SeccompArg[] => [{ index, value, op }];

/** Docker's default profile (moby/profiles seccomp v0.2.3, Docker 29.5), rule by rule. */
const dockerDefault: DefaultRule[] = [
  { names: words(`
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32 clock_adjtime
clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat
fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs
fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
getxattrat inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents
io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount listxattr
listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr
mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal
msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open
openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction
rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr setxattrat shmat
shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat
stat64 statfs statfs64 statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
writev`) },
  // ptrace can no longer bypass seccomp since 4.8, so Docker allows it to everyone there.
  { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], when: { minKernel: [4, 8] } },
  { names: ['socket'], args: argEq(0, AF_ALG, 'SCMP_CMP_LT') },
  { names: ['socket'], args: argEq(0, AF_NFC) },
  { names: ['socket'], args: argEq(0, AF_VSOCK, 'SCMP_CMP_GT') },
  // personality: only the harmless personas (PER_LINUX, PER_LINUX32, UNAME26 variants, query).
  ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((v) => ({ names: ['personality'], args: argEq(0, v) })),
  { names: ['sync_file_range2', 'swapcontext'], when: { arches: ['ppc64le'] } },
  { names: words('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'), when: { arches: ['arm', 'arm64'] } },
  { names: ['arch_prctl'], when: { arches: ['amd64', 'x32'] } },
  { names: ['modify_ldt'], when: { arches: ['amd64', 'x32', 'x86'] } },
  { names: words('s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr'), when: { arches: ['s390', 's390x'] } },
  { names: ['riscv_flush_icache'], when: { arches: ['riscv64'] } },
  { names: ['open_by_handle_at'], when: { caps: ['CAP_DAC_READ_SEARCH'] } },
  {
    names: words(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
      lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd
      setdomainname sethostname setns syslog umount umount2 unshare`),
    when: { caps: ['CAP_SYS_ADMIN'] },
  },
  // clone without namespace flags; the flags are argument 1 on s390.
  { names: ['clone'], args: argEq(0, CLONE_NS_MASK, 'SCMP_CMP_MASKED_EQ'), when: { notCaps: ['CAP_SYS_ADMIN'], notArches: ['s390', 's390x'] } },
  { names: ['clone'], args: argEq(1, CLONE_NS_MASK, 'SCMP_CMP_MASKED_EQ'), when: { arches: ['s390', 's390x'], notCaps: ['CAP_SYS_ADMIN'] } },
  // clone3's flags live in memory seccomp cannot read: ENOSYS makes libc fall back to clone.
  { names: ['clone3'], errnoRet: ENOSYS, when: { notCaps: ['CAP_SYS_ADMIN'] } },
  { names: ['reboot'], when: { caps: ['CAP_SYS_BOOT'] } },
  { names: ['chroot'], when: { caps: ['CAP_SYS_CHROOT'] } },
  { names: ['delete_module', 'init_module', 'finit_module'], when: { caps: ['CAP_SYS_MODULE'] } },
  { names: ['acct'], when: { caps: ['CAP_SYS_PACCT'] } },
  { names: words('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'), when: { caps: ['CAP_SYS_PTRACE'] } },
  { names: ['iopl', 'ioperm'], when: { caps: ['CAP_SYS_RAWIO'] } },
  { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], when: { caps: ['CAP_SYS_TIME'] } },
  { names: ['vhangup'], when: { caps: ['CAP_SYS_TTY_CONFIG'] } },
  { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], when: { caps: ['CAP_SYS_NICE'] } },
  { names: ['syslog'], when: { caps: ['CAP_SYSLOG'] } },
  { names: ['bpf'], when: { caps: ['CAP_BPF'] } },
  { names: ['perf_event_open'], when: { caps: ['CAP_PERFMON'] } },
];

/** Node's process.arch → the architecture names Docker's profile conditions on. */
const dockerArch: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', loong64: 'loong64' };

/** Docker's archMap: the native seccomp architecture and the compat ones it also lets through. */
const archMap: Record<string, string[]> = {
  amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
  riscv64: ['SCMP_ARCH_RISCV64'],
  loong64: ['SCMP_ARCH_LOONGARCH64'],
};

/** Architectures runc should accept for this host: the native one and its compat modes. */
export function hostArchitectures(arch: string = process.arch): string[] {
  return archMap[dockerArch[arch] ?? arch] ?? [];
}

/** "6.18.44-fc" → [6, 18]: Docker compares only the version and major revision. */
export function kernelVersion(release: string = os.release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new InvalidArgument(`failed to parse kernel version "${release}"`);
  return [Number(m[1]), Number(m[2])];
}
let hostKernel: [number, number] | undefined;

const atLeast = (have: [number, number], min: [number, number]) => have[0] > min[0] || (have[0] === min[0] && have[1] >= min[1]);

export interface HostInfo {
  /** Node's process.arch naming (x64, arm64…). */
  arch?: string;
  /** [version, major revision] of the running kernel. */
  kernel?: [number, number];
}

/**
 * Docker's default seccomp profile for a container whose capability set is
 * `caps`: everything not listed fails with EPERM; namespace creation, keyctl,
 * kexec, module loading and the like stay blocked unless the capability that
 * would allow them was granted. Rules are picked for this host's architecture
 * and kernel as Docker does, then plain allow rules are merged into one so
 * runc compiles each syscall once.
 *
 *   defaultSeccomp(['CAP_CHOWN', 'CAP_NET_RAW'])          // unshare → EPERM, clone3 → ENOSYS
 *   defaultSeccomp([...caps, 'CAP_SYS_ADMIN']).syscalls   // + mount, unshare, setns, clone with any flags
 */
export function defaultSeccomp(caps: readonly string[], host: HostInfo = {}): Seccomp {
  const have = new Set(caps);
  const arch = dockerArch[host.arch ?? process.arch] ?? host.arch ?? process.arch;
  const kernel = host.kernel ?? (hostKernel ??= kernelVersion());
  const applies = ({ when: w }: DefaultRule) => !w || (
    (w.caps ?? []).every((c) => have.has(c)) && !(w.notCaps ?? []).some((c) => have.has(c)) &&
    (!w.arches || w.arches.includes(arch)) && !(w.notArches ?? []).includes(arch) &&
    (!w.minKernel || atLeast(kernel, w.minKernel)));
  const allow = new Set<string>();
  const rest: SeccompRule[] = [];
  for (const r of dockerDefault.filter(applies)) {
    if (r.errnoRet !== undefined) rest.push({ names: r.names, action: 'SCMP_ACT_ERRNO', errnoRet: r.errnoRet });
    else if (r.args) rest.push({ names: r.names, action: 'SCMP_ACT_ALLOW', args: r.args });
    else for (const n of r.names) allow.add(n);
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, architectures: archMap[arch] ?? [],
    syscalls: [{ names: [...allow], action: 'SCMP_ACT_ALLOW' }, ...rest],
  };
}

interface DockerFilter { caps?: string[]; arches?: string[]; minKernel?: string }
interface DockerRule {
  name?: string; names?: string[]; action: string; errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: DockerFilter | null; excludes?: DockerFilter | null;
}
interface DockerProfile {
  defaultAction: string; defaultErrnoRet?: number; architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  syscalls?: DockerRule[] | null;
}

// What runc accepts; anything else would only fail later at start, so we refuse it at create with runc's words.
const knownActions = new Set(words(`SCMP_ACT_KILL SCMP_ACT_ERRNO SCMP_ACT_TRAP SCMP_ACT_ALLOW SCMP_ACT_TRACE SCMP_ACT_LOG
  SCMP_ACT_NOTIFY SCMP_ACT_KILL_THREAD SCMP_ACT_KILL_PROCESS`));
const knownOps = new Set(words('SCMP_CMP_NE SCMP_CMP_LT SCMP_CMP_LE SCMP_CMP_EQ SCMP_CMP_GE SCMP_CMP_GT SCMP_CMP_MASKED_EQ'));
const knownArches = new Set(words(`SCMP_ARCH_X86 SCMP_ARCH_X86_64 SCMP_ARCH_X32 SCMP_ARCH_ARM SCMP_ARCH_AARCH64 SCMP_ARCH_MIPS
  SCMP_ARCH_MIPS64 SCMP_ARCH_MIPS64N32 SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64 SCMP_ARCH_MIPSEL64N32 SCMP_ARCH_PPC SCMP_ARCH_PPC64
  SCMP_ARCH_PPC64LE SCMP_ARCH_RISCV64 SCMP_ARCH_S390 SCMP_ARCH_S390X SCMP_ARCH_LOONGARCH64`));

const decodeError = (msg: string) => new InvalidArgument(`Decoding seccomp profile failed: ${msg}`);

/** Go's unmarshal type error for a field present with the wrong JSON kind (absent and null are fine). */
function expectType(v: unknown, kind: 'string' | 'array' | 'object', field: string, goType: string): void {
  if (v === undefined || v === null || goJsonKind(v) === kind) return;
  throw decodeError(`json: cannot unmarshal ${goJsonKind(v)} into Go struct field ${field} of type ${goType}`);
}

/** A filter's "minKernel" as Docker reads it: "<kernel>.<major>", each 0..255, not 0.0. */
function parseMinKernel(v: unknown): [number, number] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const shown = JSON.stringify(v);
  const m = typeof v === 'string' ? /^(\d{1,3})\.(\d{1,3})$/.exec(v) : null;
  const k = m ? [Number(m[1]), Number(m[2])] as [number, number] : undefined;
  if (!k || k[0] > 255 || k[1] > 255) throw decodeError(`invalid kernel version: ${shown}, expected "<kernel>.<major>"`);
  if (k[0] === 0 && k[1] === 0) throw decodeError(`invalid kernel version: ${shown}, expected "<kernel>.<major>": version cannot be 0.0`);
  return k;
}

function checkAction(a: unknown): string {
  if (typeof a !== 'string' || !knownActions.has(a)) throw new InvalidArgument(`string ${String(a ?? '')} is not a valid action for seccomp`);
  return a;
}

/**
 * Converts a Docker-format profile (the JSON `--security-opt seccomp=FILE`
 * sends) to the OCI form the way Docker does: rules whose includes/excludes
 * do not match `caps`, this host's architecture or kernel are dropped, and
 * `archMap` becomes this architecture and its compat ones. Returns undefined
 * for a profile with neither defaultAction nor syscalls (Docker then runs
 * unfiltered). Throws InvalidArgument with Docker's message for JSON it
 * cannot decode and with runc's for an unknown action, operator or
 * architecture, so a bad profile is refused before anything is created.
 */
export function seccompFromProfile(json: string, caps: readonly string[], host: HostInfo = {}): Seccomp | undefined {
  let p: DockerProfile | null;
  try {
    p = JSON.parse(json) as DockerProfile | null;
  } catch (e) {
    throw decodeError(goJsonSyntaxError(json) ?? (e as Error).message);
  }
  // Go decodes null into an empty profile, which means no filter.
  if (p === null) return undefined;
  if (typeof p !== 'object' || Array.isArray(p)) throw decodeError(`json: cannot unmarshal ${goJsonKind(p)} into Go value of type seccomp.Seccomp`);
  expectType(p.defaultAction, 'string', 'Seccomp.defaultAction', 'specs.LinuxSeccompAction');
  expectType(p.syscalls, 'array', 'Seccomp.syscalls', '[]*seccomp.Syscall');
  if (!p.defaultAction && !p.syscalls?.length) return undefined;
  if (p.architectures?.length && p.archMap?.length) {
    throw new InvalidArgument("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const arch = dockerArch[host.arch ?? process.arch] ?? host.arch ?? process.arch;
  const native = archMap[arch]?.[0];
  const architectures = [...(p.architectures ?? [])];
  const mine = p.archMap?.find((a) => a.architecture === native);
  if (mine) architectures.push(mine.architecture, ...(mine.subArchitectures ?? []));
  for (const a of architectures) if (!knownArches.has(a)) throw new InvalidArgument(`string ${a} is not a valid arch for seccomp`);

  const have = new Set(caps);
  let kernel = host.kernel;
  const kernelAtLeast = (min: [number, number]) => atLeast(kernel ??= (hostKernel ??= kernelVersion()), min);
  const syscalls: SeccompRule[] = [];
  for (const r of p.syscalls ?? []) {
    // Docker's daemon dereferences a null rule and panics; refuse it plainly instead.
    if (r === null) throw new InvalidArgument('invalid seccomp profile: a syscalls entry is null');
    expectType(r, 'object', 'Seccomp.syscalls', 'seccomp.Syscall');
    expectType(r.names, 'array', 'Syscall.syscalls.names', '[]string');
    expectType(r.action, 'string', 'Syscall.syscalls.action', 'specs.LinuxSeccompAction');
    if (r.name && r.names?.length) {
      throw new InvalidArgument("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    }
    const inc = r.includes ?? {}, exc = r.excludes ?? {};
    const incKernel = parseMinKernel(inc.minKernel), excKernel = parseMinKernel(exc.minKernel);
    if (exc.arches?.includes(arch)) continue;
    if (exc.caps?.some((c) => have.has(c))) continue;
    if (excKernel && kernelAtLeast(excKernel)) continue;
    if (inc.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => have.has(c))) continue;
    if (incKernel && !kernelAtLeast(incKernel)) continue;
    for (const a of r.args ?? []) if (!knownOps.has(a.op)) throw new InvalidArgument(`string ${a.op} is not a valid operator for seccomp`);
    syscalls.push({
      names: r.name ? [r.name] : r.names ?? [], action: checkAction(r.action),
      ...(r.errnoRet !== undefined && r.errnoRet !== null ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: checkAction(p.defaultAction),
    ...(p.defaultErrnoRet !== undefined && p.defaultErrnoRet !== null ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}), syscalls,
  };
}
