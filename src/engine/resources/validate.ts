import { InvalidArgument } from '../../common/errors.js';
import type { HostConfig, RestartPolicy } from '../containers/types.js';
import type { HostCaps } from './caps.js';

/** The body of `POST /containers/{id}/update`: resources plus the restart policy. */
export type ResourceUpdate = Pick<HostConfig,
  'Memory' | 'MemorySwap' | 'MemoryReservation' | 'CpuShares' | 'CpuPeriod' | 'CpuQuota' | 'NanoCpus' |
  'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight'> & { RestartPolicy?: RestartPolicy };

const minMemory = 6 * 1024 * 1024;
const numericKeys = ['Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'NanoCpus', 'PidsLimit', 'BlkioWeight'] as const;

/**
 * Checks an update the way Docker's verifyPlatformContainerResources does
 * (update mode): limits the kernel cannot apply are dropped with Docker's
 * warning, impossible values are refused with Docker's message. Returns the
 * request with dropped limits removed.
 */
export function validateUpdate(req: ResourceUpdate, caps: HostCaps): { update: ResourceUpdate; warnings: string[] } {
  // Clients send the whole Resources struct (CgroupParent, Devices, Ulimits…): only these fields are updatable.
  const r: ResourceUpdate = {};
  for (const k of numericKeys) {
    const v = req[k];
    if (v === undefined || v === null) continue;
    if (!Number.isInteger(v)) throw new InvalidArgument(`invalid value for ${k}: ${JSON.stringify(v)}`);
    r[k] = v;
  }
  if (req.CpusetCpus) r.CpusetCpus = String(req.CpusetCpus);
  if (req.CpusetMems) r.CpusetMems = String(req.CpusetMems);
  if (req.RestartPolicy) r.RestartPolicy = req.RestartPolicy;
  const warnings: string[] = [];
  const drop = (keys: (keyof ResourceUpdate)[], msg: string) => {
    for (const k of keys) delete r[k];
    warnings.push(msg);
  };

  if (r.Memory && r.Memory > 0 && !caps.memory) drop(['Memory', 'MemorySwap'], 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (r.Memory && r.Memory < minMemory) throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  if (r.Memory && r.Memory > 0 && r.MemorySwap && r.MemorySwap !== -1 && !caps.swap) {
    drop(['MemorySwap'], 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
  }
  if (r.Memory && r.Memory > 0 && r.MemorySwap && r.MemorySwap > 0 && r.MemorySwap < r.Memory) {
    throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.MemoryReservation && r.MemoryReservation > 0 && !caps.memoryReservation) {
    drop(['MemoryReservation'], 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
  }
  if (r.MemoryReservation && r.MemoryReservation > 0 && r.MemoryReservation < minMemory) throw new InvalidArgument('Minimum memory reservation allowed is 6MB');
  if (r.Memory && r.Memory > 0 && r.MemoryReservation && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation) {
    throw new InvalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  }

  if (r.NanoCpus && r.NanoCpus > 0 && r.CpuPeriod && r.CpuPeriod > 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.NanoCpus && r.NanoCpus > 0 && r.CpuQuota && r.CpuQuota > 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (r.NanoCpus && r.NanoCpus > 0 && !caps.cpuCfs) throw new InvalidArgument('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  if (r.NanoCpus && (r.NanoCpus < 0 || r.NanoCpus > caps.ncpu * 1e9)) {
    throw new InvalidArgument(`Range of CPUs is from 0.01 to ${caps.ncpu}.00, as there are only ${caps.ncpu} CPUs available`);
  }
  if (r.CpuShares && r.CpuShares > 0 && !caps.cpuShares) drop(['CpuShares'], 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
  if (r.CpuPeriod && r.CpuPeriod > 0 && !caps.cpuCfs) drop(['CpuPeriod'], 'Your kernel does not support CPU cfs period or the cgroup is not mounted. Period discarded.');
  if (r.CpuQuota && r.CpuQuota > 0 && !caps.cpuCfs) drop(['CpuQuota'], 'Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.');
  if (r.CpuPeriod && (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000)) throw new InvalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (r.CpuQuota && r.CpuQuota > 0 && r.CpuQuota < 1000) throw new InvalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');

  if ((r.CpusetCpus || r.CpusetMems) && !caps.cpuset) drop(['CpusetCpus', 'CpusetMems'], 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.CpusetCpus) checkSubset(r.CpusetCpus, caps.cpusAvailable, 'cpuset cpus', 'CPUs');
  if (r.CpusetMems) checkSubset(r.CpusetMems, caps.memsAvailable, 'cpuset mems', 'memory nodes');

  if (r.BlkioWeight && r.BlkioWeight > 0 && !caps.blkioWeight) drop(['BlkioWeight'], 'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
  if (r.BlkioWeight && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) throw new InvalidArgument('Range of blkio weight is from 10 to 1000');

  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit !== 0 && !caps.pids) {
    drop(['PidsLimit'], 'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
  }
  if (r.RestartPolicy) validateRestartPolicy(r.RestartPolicy);
  return { update: r, warnings };
}

function validateRestartPolicy(p: RestartPolicy): void {
  const name = p.Name ?? '';
  if (!['', 'no', 'always', 'on-failure', 'unless-stopped'].includes(name)) throw new InvalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  const n = p.MaximumRetryCount ?? 0;
  if (n < 0) throw new InvalidArgument('invalid restart policy: maximum retry count cannot be negative');
  if (n > 0 && name !== 'on-failure') throw new InvalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
}

/** Parses a cpuset list (`0-2,4`) into its members; undefined when malformed. */
export function parseCpuList(list: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

function checkSubset(req: string, available: string, what: string, plural: string): void {
  const want = parseCpuList(req);
  if (!want) throw new InvalidArgument(`Invalid value ${req} for ${what}`);
  const have = parseCpuList(available) ?? new Set<number>();
  for (const n of want) {
    if (!have.has(n)) throw new InvalidArgument(`Requested ${plural} are not available - requested ${req}, available: ${available}`);
  }
}
