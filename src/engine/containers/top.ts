import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { InvalidArgument } from '../../common/errors.js';

const run = promisify(execFile);

/**
 * `top`: the host's `ps` output restricted to the processes in the
 * container's PID namespace, as Docker shows it (`{Titles, Processes}`).
 * This module is the only caller of `ps`.
 */
export async function listContainerProcesses(initPid: number, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
  const pids = await pidsInNamespaceOf(initPid);
  const args = psArgs.split(/\s+/).filter(Boolean);
  let stdout: string;
  try {
    ({ stdout } = await run('ps', args, { maxBuffer: 64 << 20 }));
  } catch (err: any) {
    throw new InvalidArgument(`Error running ps: ${err?.stderr?.trim() || err?.message}`);
  }
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) return { Titles: [], Processes: [] };
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new InvalidArgument(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    // The last column (CMD/COMMAND) may contain spaces: split only titles.length-1 times.
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidCol]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

async function pidsInNamespaceOf(initPid: number): Promise<Set<number>> {
  const target = await fs.readlink(`/proc/${initPid}/ns/pid`);
  const out = new Set<number>();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await fs.readlink(`/proc/${name}/ns/pid`)) === target) out.add(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}
