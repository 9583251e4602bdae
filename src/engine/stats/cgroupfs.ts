import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Where the host's cgroup controllers are mounted. On cgroup v1 (these
 * machines run hybrid) each controller has its own directory — `cpu` apart
 * from `cpuacct` here, combined as `cpu,cpuacct` elsewhere — and some may be
 * missing; on v2 there is one unified tree. Never assume a layout: read it
 * from /proc/self/mountinfo.
 *
 *   const layout = await detectCgroupLayout();
 *   controllerDir(layout, 'memory', '/berth/0123…')  // '/sys/fs/cgroup/memory/berth/0123…'
 */
export type CgroupLayout =
  | { version: 1; controllers: Record<string, string> }
  | { version: 2; root: string };

/** The v1 controllers Berth reads or writes. */
export const v1Controllers = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio'] as const;
export type V1Controller = (typeof v1Controllers)[number];

/** Parses mountinfo text into a layout: v1 if any v1 controller is mounted, else the unified mount. */
export function parseCgroupMounts(mountinfo: string): CgroupLayout {
  const controllers: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMountPath(pre[4] ?? '');
    if (fstype === 'cgroup2') unified ??= mountPoint;
    if (fstype !== 'cgroup') continue;
    for (const opt of superOpts.split(',')) {
      if ((v1Controllers as readonly string[]).includes(opt)) controllers[opt] ??= mountPoint;
    }
  }
  if (Object.keys(controllers).length > 0) return { version: 1, controllers };
  if (unified) return { version: 2, root: unified };
  throw new Error('no cgroup filesystem is mounted');
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function detectCgroupLayout(mountinfoPath = '/proc/self/mountinfo'): Promise<CgroupLayout> {
  return parseCgroupMounts(await fs.readFile(mountinfoPath, 'utf8'));
}

/**
 * The directory of a cgroup for one controller (v1), or the unified one (v2,
 * where `controller` is ignored). Undefined when the controller is not mounted.
 */
export function controllerDir(layout: CgroupLayout, controller: V1Controller, cgroupPath: string): string | undefined {
  if (layout.version === 2) return path.join(layout.root, cgroupPath);
  const mount = layout.controllers[controller];
  return mount ? path.join(mount, cgroupPath) : undefined;
}

/** The cgroup a container's runtime creates (the OCI spec's `cgroupsPath`). */
export function containerCgroupPath(id: string): string {
  return `/berth/${id}`;
}

/** Reads a cgroup file, undefined when absent (controller missing, cgroup gone). */
export async function readCgroupFile(dir: string | undefined, file: string): Promise<string | undefined> {
  if (!dir) return undefined;
  try {
    return await fs.readFile(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** A file of one number (`max` and absent files give undefined). */
export async function readCgroupNumber(dir: string | undefined, file: string): Promise<number | undefined> {
  const t = (await readCgroupFile(dir, file))?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat) as a map. */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}
