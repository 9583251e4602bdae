/**
 * Build-context benchmark: a context of 10,000 files (200 MiB) packed by the
 * client, received by the daemon (hashing files as they arrive) and
 * checksummed for the cache, one file changed per run as in a rebuild; and the
 * same checksum over a directory read from disk. Prints medians.
 *
 *   node dist/bench/build-context.js [runs=5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { contextFromDirectory, contextFromTar, packContext, type BuildContext } from '../src/engine/build/context.js';
import { Readable } from 'node:stream';

const FILES = 10_000;
const TOTAL = 200 * 1024 * 1024;
const runs = Number(process.argv[2] ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-ctx-'));
  try {
    const src = join(work, 'src');
    const size = Math.floor(TOTAL / FILES);
    const blob = randomBytes(size + FILES);
    for (let d = 0; d < 100; d++) {
      await mkdir(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < FILES / 100; f++) {
        const i = d * (FILES / 100) + f;
        await writeFile(join(src, `d${d}`, `f${f}.bin`), blob.subarray(i, i + size));
      }
    }
    await writeFile(join(src, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx\n');
    const results: Record<string, number[]> = {
      'pack (client)': [], 'pack+receive (daemon)': [], 'checksum after receive': [], 'checksum, directory context': [],
    };
    for (let r = 0; r < runs; r++) {
      results['pack (client)'].push(await time(async () => {
        const { stream } = await packContext(src);
        for await (const _ of stream) void _;
      }));
      // A rebuild: one file differs from the previous run.
      await writeFile(join(src, 'd7', 'f3.bin'), randomBytes(size));
      let ctx: BuildContext | undefined;
      results['pack+receive (daemon)'].push(await time(async () => {
        const { stream } = await packContext(src);
        ctx = await contextFromTar(stream as Readable, { tmpRoot: work });
      }));
      const [all] = await ctx!.resolve(['.'], '/', 'COPY');
      results['checksum after receive'].push(await time(() => ctx!.digest(all)));
      const dirCtx = await contextFromDirectory(src);
      const [dirAll] = await dirCtx.resolve(['.'], '/', 'COPY');
      results['checksum, directory context'].push(await time(() => dirCtx.digest(dirAll)));
      await dirCtx.close();
      await ctx!.close();
    }
    console.log(`build context: ${FILES} files, ${(TOTAL / 1048576).toFixed(0)} MiB, median of ${runs}`);
    for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(26)} ${median(v).toFixed(0).padStart(6)} ms`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
