import { BerthError, InvalidArgument, errorMessage } from '../../common/errors.js';
import type { HostConfig } from '../containers/types.js';
import type { CgroupLayout } from '../stats/cgroupfs.js';
import type { HostCaps } from './caps.js';
import { writeCgroupLimits, type Limits } from './cgroup-write.js';
import { validateUpdate, type ResourceUpdate } from './validate.js';

export interface UpdateTarget {
  id: string;
  /** Running (and not restarting): the cgroup exists and is written now. */
  running: boolean;
  hostConfig: HostConfig;
  /** `/berth/<id>`. */
  cgroupPath: string;
}

/**
 * `docker update`: validates the request, merges it into the container's
 * HostConfig as Docker does (only fields the request sets change; Nano CPUs
 * and an explicit CFS period/quota exclude each other across updates), and
 * writes the new limits into a running container's cgroup. The caller
 * persists the returned HostConfig; a stopped container gets its limits at
 * the next start from there.
 *
 *   const { hostConfig, warnings } = await updateResources(layout, caps, target, { Memory: 64 << 20, MemorySwap: -1 });
 */
export async function updateResources(layout: CgroupLayout, caps: HostCaps, t: UpdateTarget, req: ResourceUpdate): Promise<{ hostConfig: HostConfig; warnings: string[] }> {
  const { update, warnings } = validateUpdate(req, caps);
  const cur = t.hostConfig;
  const next: HostConfig = { ...cur };
  const changed = new Set<keyof Limits>();
  const conflict = (msg: string) => new InvalidArgument(`Cannot update container ${t.id}: ${msg}`);

  if (update.RestartPolicy && update.RestartPolicy.Name !== undefined && update.RestartPolicy.Name !== '') {
    if (cur.AutoRemove && update.RestartPolicy.Name !== 'no') throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: update.RestartPolicy.Name, MaximumRetryCount: update.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  if (update.NanoCpus && update.NanoCpus > 0 && (cur.CpuPeriod ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (update.NanoCpus && update.NanoCpus > 0 && (cur.CpuQuota ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (update.CpuPeriod && update.CpuPeriod > 0 && (cur.NanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (update.CpuQuota && update.CpuQuota > 0 && (cur.NanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  if (update.Memory && (cur.MemorySwap ?? 0) > 0 && update.Memory > (cur.MemorySwap ?? 0) && !update.MemorySwap) {
    throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }

  const numeric: (keyof Limits)[] = ['BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'Memory', 'MemorySwap', 'MemoryReservation'];
  for (const k of numeric) {
    const v = update[k] as number | undefined;
    if (v !== undefined && v !== 0) {
      (next as Record<string, unknown>)[k] = v;
      changed.add(k);
    }
  }
  for (const k of ['CpusetCpus', 'CpusetMems'] as const) {
    if (update[k]) {
      next[k] = update[k];
      changed.add(k);
    }
  }
  if (update.PidsLimit !== undefined && update.PidsLimit !== null) {
    next.PidsLimit = update.PidsLimit;
    changed.add('PidsLimit');
  }

  if (t.running && changed.size > 0) {
    try {
      await writeCgroupLimits(layout, t.cgroupPath, next, changed);
    } catch (err) {
      if (err instanceof BerthError) throw err;
      // EBUSY/EINVAL from the kernel: e.g. a memory limit below what the container already uses.
      throw new BerthError(`Cannot update container ${t.id}: ${errorMessage(err)}`);
    }
  }
  return { hostConfig: next, warnings };
}
