import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

/** One timed sample in milliseconds. */
export type Sample = number;

export interface Row {
  workload: string;
  berth: Sample[];
  /** The bare OCI runtime doing the same thing. */
  floor?: Sample[];
  /** The same workload through the docker CLI against a peer engine. */
  peer?: Sample[];
  /** The docker CLI against berthd. */
  dockerCli?: Sample[];
  unit?: 'ms' | 'MB';
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs a command and returns its wall time in ms; throws with its output if it fails. */
export function timeCommand(cmd: string, args: string[], opts: SpawnSyncOptions = {}): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${String(r.stderr ?? '').slice(0, 500)}`);
  return ms;
}

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${String(r.stderr ?? '').slice(0, 500)}`);
  return String(r.stdout ?? '');
}

export function repeat(n: number, fn: () => Sample): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) out.push(fn());
  return out;
}

function fmt(xs: Sample[] | undefined, unit = 'ms'): string {
  if (!xs || xs.length === 0) return '-';
  const u = unit === 'ms' ? '' : ` ${unit}`;
  return `${median(xs).toFixed(0)}${u} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
}

function ratio(a: Sample[] | undefined, b: Sample[] | undefined): string {
  if (!a?.length || !b?.length) return '-';
  return `${(median(a) / median(b)).toFixed(2)}×`;
}

/** The results table: medians with min–max, and ratios to the floor and the peer. */
export function printTable(rows: Row[]): void {
  const header = ['workload', 'berth median (min–max)', 'floor', 'berth/floor', 'docker CLI→berth', 'peer', 'berth/peer'];
  const lines = rows.map((r) => [
    r.workload, fmt(r.berth, r.unit), fmt(r.floor, r.unit), ratio(r.berth, r.floor), fmt(r.dockerCli, r.unit), fmt(r.peer, r.unit), ratio(r.berth, r.peer),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const l of lines) console.log(row(l));
  for (const r of rows) if (r.note) console.log(`* ${r.workload}: ${r.note}`);
}
