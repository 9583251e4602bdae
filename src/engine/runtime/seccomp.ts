import { InvalidArgument } from '../../common/errors.js';

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
// Namespace flags clone() must not carry without CAP_SYS_ADMIN (Docker's mask 0x7E020000).
const CLONE_NS_MASK = 0x7e020000;

/** Syscalls every container may make, whatever its capabilities (Docker's default allowlist). */
const allowed = `accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait
futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom
getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64
ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self
lchown lchown32 lgetxattr link linkat listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek
lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod
mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync
munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv
preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename
renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp
select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list
setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget
shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs
statfs64 statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit
umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
writev arch_prctl modify_ldt`.split(/\s+/);

/** What each capability adds to the allowlist, as Docker's profile does. */
const byCapability: Record<string, string[]> = {
  CAP_SYS_ADMIN: ['bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'mount', 'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname',
    'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** Architectures runc should accept for this host: the native one and its compat modes. */
export function hostArchitectures(arch: string = process.arch): string[] {
  if (arch === 'x64') return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
  if (arch === 'arm64') return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
  return [];
}

/**
 * Docker's default seccomp profile for a container whose final capability
 * set is `caps`: everything not listed fails with EPERM; namespace creation,
 * keyctl, kexec, module loading and the like stay blocked unless the
 * capability that would allow them was granted.
 *
 *   defaultSeccomp(['CAP_CHOWN', 'CAP_NET_RAW'])          // unshare → EPERM
 *   defaultSeccomp([...caps, 'CAP_SYS_ADMIN']).syscalls   // + mount, unshare, setns, clone with any flags
 */
export function defaultSeccomp(caps: string[], arch: string = process.arch): Seccomp {
  const have = new Set(caps);
  const syscalls: SeccompRule[] = [{ names: [...allowed], action: 'SCMP_ACT_ALLOW' }];
  // personality: only the harmless personas Docker allows.
  for (const value of [0x0, 0x8, 0x20000, 0x20008, 0xffffffff]) {
    syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] });
  }
  // socket: anything but AF_VSOCK (40).
  syscalls.push({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] });
  for (const [cap, names] of Object.entries(byCapability)) {
    if (have.has(cap)) syscalls.push({ names, action: 'SCMP_ACT_ALLOW' });
  }
  if (!have.has('CAP_SYS_ADMIN')) {
    // clone without namespace flags (flags are arg 1 on s390, arg 0 elsewhere).
    syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NS_MASK, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] });
    // clone3's flags live in memory seccomp cannot read: ENOSYS makes glibc fall back to clone.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, architectures: hostArchitectures(arch), syscalls };
}

interface DockerRule {
  name?: string; names?: string[]; action: string; errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[] };
}
interface DockerProfile {
  defaultAction: string; defaultErrnoRet?: number; architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[] | null;
  syscalls?: DockerRule[] | null;
}

const archAliases: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/**
 * Converts a Docker-format profile (the JSON `--security-opt seccomp=FILE`
 * sends) to the OCI form, keeping only rules whose includes/excludes match
 * `caps` and this host's architectures. Throws InvalidArgument with Docker's
 * message when the JSON cannot be decoded.
 */
export function seccompFromProfile(json: string, caps: string[], arch: string = process.arch): Seccomp {
  let p: DockerProfile;
  try {
    p = JSON.parse(json) as DockerProfile;
  } catch (e) {
    throw new InvalidArgument(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (!p || typeof p !== 'object' || typeof p.defaultAction !== 'string') {
    throw new InvalidArgument('Decoding seccomp profile failed: defaultAction is required');
  }
  if (p.architectures?.length && p.archMap?.length) {
    throw new InvalidArgument("Decoding seccomp profile failed: both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const native = hostArchitectures(arch);
  let architectures = p.architectures ?? [];
  if (p.archMap?.length) {
    const mine = p.archMap.find((a) => a.architecture === native[0]);
    architectures = mine ? [mine.architecture, ...(mine.subArchitectures ?? [])] : [];
  }
  const have = new Set(caps);
  const goArch = archAliases[arch] ?? arch;
  const syscalls: SeccompRule[] = [];
  for (const r of p.syscalls ?? []) {
    if (typeof r !== 'object' || typeof r.action !== 'string') {
      throw new InvalidArgument('Decoding seccomp profile failed: every syscall rule needs an action');
    }
    if (r.name && r.names?.length) {
      throw new InvalidArgument("Decoding seccomp profile failed: use either 'name' or 'names'");
    }
    const inc = r.includes ?? {}, exc = r.excludes ?? {};
    if (inc.caps?.length && !inc.caps.every((c) => have.has(c))) continue;
    if (inc.arches?.length && !inc.arches.includes(goArch)) continue;
    if (exc.caps?.some((c) => have.has(c))) continue;
    if (exc.arches?.includes(goArch)) continue;
    const names = r.names?.length ? r.names : r.name ? [r.name] : [];
    if (!names.length) continue;
    syscalls.push({
      names, action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures, syscalls,
  };
}
