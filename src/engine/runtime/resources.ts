import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../../common/errors.js';
import type { HostConfig, Ulimit } from '../containers/types.js';
import type { Resources, Rlimit } from './oci-spec.js';

/**
 * Translates Docker's resource flags (HostConfig) into OCI cgroup resources,
 * checking them as Docker does so that bad values fail at create time with
 * Docker's message instead of deep inside runc.
 *
 *   cgroupResources({ Memory: 64 << 20, NanoCpus: 5e8 })
 *   // → { memory: { limit: 67108864, swap: 134217728 }, cpu: { period: 100000, quota: 50000 } }
 *
 * `swapAccounting` says whether the host can limit swap (memory.memsw.* on
 * cgroup v1); without it swap limits are dropped, as Docker does with a warning.
 */
export function cgroupResources(hc: HostConfig, host: { swapAccounting: boolean } = { swapAccounting: true }): Resources {
  const r: Resources = {};
  const memory = hc.Memory ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  const swap = hc.MemorySwap ?? 0;
  if (memory < 0 || reservation < 0) throw new InvalidArgument('invalid memory value: must be positive');
  if (memory > 0 && memory < 6 * 1024 * 1024) throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) {
    throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (swap > 0 && memory === 0) {
    throw new InvalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (memory > 0 && reservation > 0 && reservation > memory) {
    throw new InvalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (memory > 0 || reservation > 0 || hc.OomKillDisable) {
    r.memory = {};
    if (memory > 0) r.memory.limit = memory;
    if (reservation > 0) r.memory.reservation = reservation;
    if (host.swapAccounting && memory > 0) {
      // Docker: unset swap with a memory limit means "as much swap as memory".
      if (swap === -1) r.memory.swap = -1;
      else r.memory.swap = swap > 0 ? swap : memory * 2;
    }
    if (hc.OomKillDisable) r.memory.disableOOMKiller = true;
  }

  const nano = hc.NanoCpus ?? 0;
  if (nano < 0) throw new InvalidArgument('invalid value for NanoCpus: must be positive');
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw new InvalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  const quota = hc.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw new InvalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const cpu: NonNullable<Resources['cpu']> = {};
  if ((hc.CpuShares ?? 0) > 0) cpu.shares = hc.CpuShares;
  if (nano > 0) {
    cpu.period = 100000;
    cpu.quota = Math.round((nano * 100000) / 1e9);
  }
  if (period > 0) cpu.period = period;
  if (quota > 0) cpu.quota = quota;
  if (hc.CpusetCpus) cpu.cpus = validCpuset(hc.CpusetCpus, 'cpuset.cpus');
  if (hc.CpusetMems) cpu.mems = validCpuset(hc.CpusetMems, 'cpuset.mems');
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };

  const weight = hc.BlkioWeight ?? 0;
  if (weight !== 0) {
    if (weight < 10 || weight > 1000) throw new InvalidArgument('Range of blkio weight is from 10 to 1000');
    r.blockIO = { weight };
  }
  return r;
}

function validCpuset(v: string, what: string): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new InvalidArgument(`Invalid value ${v} for ${what}`);
  return v;
}

/** Docker's `--ulimit` names (nofile, nproc, …) → OCI RLIMIT_ names. */
const rlimitNames: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

/** /proc/self/limits row names → OCI names, to learn the daemon's own hard limits. */
const procLimitNames: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO', 'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** The hard limits of this process (what a child may at most be given without CAP_SYS_RESOURCE). */
export function ownHardLimits(limitsText = readFileSync('/proc/self/limits', 'utf8')): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of limitsText.split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = procLimitNames[m[1].trim()];
    if (!name) continue;
    out.set(name, m[3] === 'unlimited' ? Infinity : Number(m[3]));
  }
  return out;
}

/**
 * OCI rlimits from Docker's Ulimits, clamped to `hardLimits` (the daemon's
 * own): raising a hard limit needs CAP_SYS_RESOURCE, which root lacks here,
 * and runc would fail with EPERM.
 *
 *   rlimits([{ Name: 'nofile', Soft: 1024, Hard: 1048576 }], new Map([['RLIMIT_NOFILE', 20000]]))
 *   // → [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }]
 */
export function rlimits(ulimits: Ulimit[] | null | undefined, hardLimits: Map<string, number> = ownHardLimits()): Rlimit[] {
  const out: Rlimit[] = [];
  for (const u of ulimits ?? []) {
    const type = rlimitNames[u.Name?.toLowerCase()];
    if (!type) throw new InvalidArgument(`invalid ulimit type: ${u.Name}`);
    let soft = u.Soft;
    let hard = u.Hard;
    if (!Number.isInteger(soft) || !Number.isInteger(hard)) throw new InvalidArgument(`invalid ulimit argument: ${u.Name}=${soft}:${hard}`);
    if (soft > hard) throw new InvalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    const max = hardLimits.get(type) ?? Infinity;
    if (hard < 0) hard = max;
    if (soft < 0) soft = hard;
    hard = Math.min(hard, max);
    soft = Math.min(soft, hard);
    // OCI encodes "unlimited" as the all-ones 64-bit value; JSON numbers cannot carry it.
    if (!Number.isFinite(hard)) hard = Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(soft)) soft = hard;
    const existing = out.findIndex((r) => r.type === type);
    if (existing >= 0) out.splice(existing, 1);
    out.push({ type, soft, hard });
  }
  return out;
}
