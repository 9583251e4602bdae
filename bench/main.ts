import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.js';
import { makeContext, type WorkloadGroup } from './context.js';
import { printTable, type Row } from './harness.js';
import { RuncFloor } from './floor.js';
import { engineWorkloads } from './workloads/engine.js';
import { composeWorkloads } from './workloads/compose.js';
import { buildWorkloads } from './workloads/build.js';
import { fsWorkloads } from './workloads/fs.js';
import { registryWorkloads } from './workloads/registry.js';
import { networkWorkloads } from './workloads/network.js';

/**
 * `npm run bench -- [--peer unix:///path.sock] [--rounds N] [--only a,b]`
 *
 * Starts its own berthd on temp roots, measures each workload through the
 * berth CLI, the docker CLI against berthd (when `docker` is installed), the
 * bare runtime (the floor), and a peer engine when given. Each area's
 * workloads live in `bench/workloads/<area>.ts`; add a group there and list
 * it below.
 */
const groups: WorkloadGroup[] = [
  ...engineWorkloads,
  ...composeWorkloads,
  ...buildWorkloads,
  ...fsWorkloads,
  ...registryWorkloads,
  ...networkWorkloads,
];

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };

async function main(): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: npm run bench -- [--peer unix:///path.sock] [--rounds N] [--only group,group]\n\ngroups:');
    for (const g of groups) console.log(`  ${g.name.padEnd(12)} ${g.describe}`);
    return;
  }
  const rounds = Number(opt('--rounds') ?? 5);
  const peer = opt('--peer');
  const only = opt('--only')?.split(',');
  const unknown = only?.filter((n) => !groups.some((g) => g.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown workload group(s): ${unknown.join(', ')} (see --help)`);

  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-'));
  const floor = await RuncFloor.create(base);
  const d = await startTestDaemon();
  const ctx = makeContext(d, floor, base, rounds, peer);
  const rows: Row[] = [];
  try {
    // Warm up: first run pays for page cache and lazy module loading.
    ctx.berth(['run', '--rm', 'busybox', 'true']);
    for (const g of groups) {
      if (only ? !only.includes(g.name) : g.onlyWhenNamed) continue;
      try {
        rows.push(...await g.run(ctx));
      } catch (err) {
        // One broken workload must not hide the others' figures.
        console.error(`bench ${g.name} failed: ${(err as Error).message}`);
        rows.push({ workload: `${g.name} (FAILED)`, berth: [] });
      }
    }
  } finally {
    await d.cleanup();
    await fs.rm(base, { recursive: true, force: true });
  }
  console.log(`\nBerth benchmarks: ${rounds} rounds, ${os.cpus().length} CPUs, ${new Date().toISOString()}${peer ? `, peer ${peer}` : ''}\n`);
  printTable(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
