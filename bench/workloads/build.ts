import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BenchContext, WorkloadGroup } from '../context.js';
import { repeat, timeCommand, type Row, type Sample } from '../harness.js';

/**
 * The builder (issue 5): a cold build and a fully cached rebuild of
 * `FROM busybox / RUN writing 10 MiB / COPY 32 small files / ENV / CMD`, and a
 * rebuild of a 10,000-file (200 MiB) context after one file changed. Each
 * against the peer's legacy builder (`DOCKER_BUILDKIT=0 docker build`).
 * Images made in the peer are named `bb2build_*_<pid>` and removed by ID afterwards.
 */
const SMALL_DOCKERFILE = [
  'FROM busybox',
  'RUN head -c 10485760 /dev/urandom > /ten-mib',
  'COPY files/ /files/',
  'ENV BENCH=1',
  'CMD ["sh"]',
].join('\n') + '\n';

async function smallContext(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'files'), { recursive: true });
  await fs.writeFile(path.join(dir, 'Dockerfile'), SMALL_DOCKERFILE);
  for (let i = 0; i < 32; i++) await fs.writeFile(path.join(dir, 'files', `f${i}.txt`), randomBytes(512 + i * 37).toString('hex'));
}

/** 10,000 files, 200 MiB in all, in 100 directories. */
async function bigContext(dir: string): Promise<void> {
  const size = Math.floor((200 * 1024 * 1024) / 10_000);
  for (let d = 0; d < 100; d++) {
    const sub = path.join(dir, 'data', `d${d}`);
    await fs.mkdir(sub, { recursive: true });
    for (let f = 0; f < 100; f++) await fs.writeFile(path.join(sub, `f${f}.bin`), randomBytes(size));
  }
  await fs.writeFile(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY data /data\nCMD ["sh"]\n');
}

/**
 * Times `build -q` through a client. Images are removed (untimed) by the ID
 * --iidfile wrote, so a name moved by someone else can't leave one behind.
 */
function builds(ctx: BenchContext, host: string | undefined, dir: string, tag: string, opts: { cold: boolean; before?: () => void }): Sample[] {
  const time = (args: string[]) => (host ? ctx.docker(host, args) : ctx.berth(args));
  const untimed = (args: string[]) => (host ? ctx.dockerOut(host, args) : ctx.berthOut(args));
  const iid = path.join(ctx.base, `iid-${process.pid}`);
  const name = `${tag}_${process.pid}`;
  const made = new Set<string>();
  const built = () => {
    const id = readFileSync(iid, 'utf8').trim();
    made.add(id);
    return id;
  };
  try {
    if (!opts.cold) {
      untimed(['build', '-q', '--iidfile', iid, '-t', name, dir]); // fills the cache
      built();
    }
    return repeat(ctx.rounds, () => {
      opts.before?.();
      const ms = time(['build', '-q', '--iidfile', iid, ...(opts.cold ? ['--no-cache'] : []), '-t', name, dir]);
      const id = built();
      if (opts.cold) {
        untimed(['rmi', '-f', id]);
        made.delete(id);
      }
      return ms;
    });
  } finally {
    for (const id of made) {
      try { untimed(['rmi', '-f', id]); } catch { /* already gone */ }
    }
  }
}

async function small(ctx: BenchContext): Promise<Row[]> {
  const dir = path.join(ctx.base, 'build-small');
  await smallContext(dir);
  const { peer, floor } = ctx;
  // The bare work: one runtime start, 10 MiB written, the 32 files packed and hashed.
  const floorCold = () => floor.runTrue(Math.random() * 1e9 | 0)
    + timeCommand('sh', ['-c', `head -c 10485760 /dev/urandom > ${dir}/.ten; rm ${dir}/.ten; tar cf - -C ${dir} files | sha256sum >/dev/null`]);
  const floorCached = () => timeCommand('sh', ['-c', `tar cf - -C ${dir} . | sha256sum >/dev/null`]);
  return [
    {
      workload: 'build cold (RUN 10MiB, COPY 32)',
      berth: builds(ctx, undefined, dir, 'bb2build_small', { cold: true }),
      dockerCli: ctx.dockerCli ? builds(ctx, ctx.daemon.host, dir, 'bb2build_small', { cold: true }) : undefined,
      floor: repeat(ctx.rounds, floorCold),
      peer: peer ? builds(ctx, peer, dir, 'bb2build_small', { cold: true }) : undefined,
      note: 'target: half of the peer',
    },
    {
      workload: 'build fully cached',
      berth: builds(ctx, undefined, dir, 'bb2build_small', { cold: false }),
      // The same client on both sides: what the daemons cost, without the berth CLI's Node start-up.
      dockerCli: ctx.dockerCli ? builds(ctx, ctx.daemon.host, dir, 'bb2build_small', { cold: false }) : undefined,
      floor: repeat(ctx.rounds, floorCached),
      peer: peer ? builds(ctx, peer, dir, 'bb2build_small', { cold: false }) : undefined,
      note: 'target: a quarter of the peer',
    },
  ];
}

async function big(ctx: BenchContext): Promise<Row[]> {
  const dir = path.join(ctx.base, 'build-big');
  await bigContext(dir);
  const { peer } = ctx;
  const changed = path.join(dir, 'data', 'd0', 'f0.bin');
  let n = 0;
  const touch = () => writeFileSync(changed, `changed ${n++} ${Date.now()}`);
  const floorRow = () => timeCommand('sh', ['-c', `tar cf - -C ${dir} . | sha256sum >/dev/null`]);
  try {
    return [{
      workload: 'build 10k files/200MiB, 1 changed',
      berth: builds(ctx, undefined, dir, 'bb2build_big', { cold: false, before: touch }),
      floor: repeat(ctx.rounds, floorRow),
      peer: peer ? builds(ctx, peer, dir, 'bb2build_big', { cold: false, before: touch }) : undefined,
      note: 'the COPY of the tree reruns; floor: tar|sha256sum of the context',
    }];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export const buildWorkloads: WorkloadGroup[] = [
  {
    name: 'build',
    describe: 'builder: cold and cached build (RUN 10MiB, COPY 32 files), 10k-file context with one change',
    run: async (ctx) => [...(await small(ctx)), ...(await big(ctx))],
  },
];
