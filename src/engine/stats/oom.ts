import { controllerDir, parseKeyValues, readCgroupFile, type CgroupLayout } from './cgroupfs.js';

/**
 * How many processes the kernel's OOM killer has killed in a cgroup
 * (`oom_kill` in v1 memory.oom_control, v2 memory.events). Read it after a
 * container exits with 137 to set `State.OOMKilled` when the monitor did not
 * say; undefined when the memory controller is not there.
 *
 *   if (code === 137 && ((await readOomKills(layout, `/berth/${id}`)) ?? 0) > 0) state.OOMKilled = true;
 */
export async function readOomKills(layout: CgroupLayout, cgroupPath: string): Promise<number | undefined> {
  const dir = controllerDir(layout, 'memory', cgroupPath);
  const text = await readCgroupFile(dir, layout.version === 1 ? 'memory.oom_control' : 'memory.events');
  if (text === undefined) return undefined;
  return parseKeyValues(text).oom_kill ?? 0;
}
