import { DaemonError } from '../../client/index.js';
import { CliExit } from '../cli-context.js';
import { parseRestart } from '../options/container-specs.js';
import { parseIntFlag, parseRamBytes, UsageError } from '../options/parse-values.js';
import type { CommandSpec } from './define.js';

/** The body of `POST /containers/{id}/update`: only the flags given, as the docker CLI sends. */
export function updateBody(o: Record<string, string | undefined>): Record<string, unknown> {
  const int = (v: string | undefined, flag: string) => (v === undefined ? undefined : parseIntFlag(v, flag));
  const ram = (v: string | undefined) => (v === undefined ? undefined : v === '-1' ? -1 : parseRamBytes(v));
  let nanoCpus: number | undefined;
  if (o.cpus !== undefined) {
    if (!/^\d*\.?\d+$/.test(o.cpus)) throw new UsageError(`invalid argument "${o.cpus}" for "--cpus" flag: failed to parse ${o.cpus} as a rational number`);
    nanoCpus = Math.round(Number(o.cpus) * 1e9);
  }
  const body: Record<string, unknown> = {
    BlkioWeight: int(o.blkioWeight, '--blkio-weight'), CpuPeriod: int(o.cpuPeriod, '--cpu-period'), CpuQuota: int(o.cpuQuota, '--cpu-quota'),
    CpuRealtimePeriod: int(o.cpuRtPeriod, '--cpu-rt-period'), CpuRealtimeRuntime: int(o.cpuRtRuntime, '--cpu-rt-runtime'),
    CpuShares: int(o.cpuShares, '--cpu-shares'), NanoCpus: nanoCpus, CpusetCpus: o.cpusetCpus, CpusetMems: o.cpusetMems,
    Memory: ram(o.memory), MemoryReservation: ram(o.memoryReservation), MemorySwap: ram(o.memorySwap), KernelMemory: ram(o.kernelMemory),
    PidsLimit: o.pidsLimit === undefined ? undefined : parseIntFlag(o.pidsLimit, '--pids-limit'),
  };
  if (o.restart !== undefined) {
    body.RestartPolicy = parseRestart(o.restart);
  }
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

export const update: CommandSpec = {
  name: 'update', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Update configuration of one or more containers', args: { min: 1 },
  setup: (c) => {
    c.option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)');
    c.option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period');
    c.option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota');
    c.option('--cpu-rt-period <int>', 'Limit the CPU real-time period in microseconds');
    c.option('--cpu-rt-runtime <int>', 'Limit the CPU real-time runtime in microseconds');
    c.option('-c, --cpu-shares <int>', 'CPU shares (relative weight)');
    c.option('--cpus <decimal>', 'Number of CPUs');
    c.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
    c.option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)');
    c.option('--kernel-memory <bytes>', 'Kernel memory limit (deprecated)');
    c.option('-m, --memory <bytes>', 'Memory limit');
    c.option('--memory-reservation <bytes>', 'Memory soft limit');
    c.option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap");
    c.option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
    c.option('--restart <string>', 'Restart policy to apply when a container exits');
  },
  action: async (ctx, names, o) => {
    const body = updateBody(o);
    if (Object.keys(body).length === 0) throw new CliExit(1, 'you must provide one or more flags when using this command');
    const client = ctx.client();
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const name of names) {
      try {
        const r = await client.json('POST', `/containers/${encodeURIComponent(name)}/update`, { body });
        ctx.out(`${name}\n`);
        warnings.push(...(r?.Warnings ?? []));
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        errors.push(e.display);
      }
    }
    if (warnings.length) ctx.out(`${warnings.join('\n')}\n`);
    if (errors.length) throw new CliExit(1, errors.join('\n'));
    return 0;
  },
};
