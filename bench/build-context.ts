/**
 * Build-context benchmark: a context of 10,000 files (200 MiB) packed by the
 * client, received by the daemon, and checksummed for the cache, then
 * checksummed again after one file changed. Prints medians of several runs.
 *
 *   node dist/bench/build-context.js [runs=5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { packContext, SourceHasher } from '../src/engine/build/context.js';
import { receiveContext } from '../src/engine/build/context/receive.js';
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
    const results: Record<string, number[]> = { pack: [], 'pack+receive': [], 'checksum (cold)': [], 'checksum after 1 change': [] };
    for (let r = 0; r < runs; r++) {
      results.pack.push(await time(async () => {
        const { stream } = await packContext(src);
        for await (const _ of stream) void _;
      }));
      const dst = join(work, `dst${r}`);
      await mkdir(dst);
      results['pack+receive'].push(await time(async () => {
        const { stream } = await packContext(src);
        await receiveContext(stream as Readable, dst);
      }));
      results['checksum (cold)'].push(await time(() => new SourceHasher().digest(dst)));
      await writeFile(join(dst, 'd7', 'f3.bin'), randomBytes(size));
      results['checksum after 1 change'].push(await time(() => new SourceHasher().digest(dst)));
      await rm(dst, { recursive: true, force: true });
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
