// Times the runtime layer against the bare runtime on this machine:
//   node dist/bench/runtime-timings.js [rounds]
// create+start+exit+delete of `true` through ContainerRuntime vs `runc run`,
// and a non-tty exec of `true` vs a bare `runc exec`.
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { newId } from '../src/common/ids.js';
import { buildSpec } from '../src/engine/runtime/spec.js';
import { RuntimeFixture } from '../test/runtime/fixture.js';

const rounds = Number(process.argv[2] ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (name: string, xs: number[], floor?: number) =>
  `${name.padEnd(44)} median ${median(xs).toFixed(1).padStart(6)} ms  min ${Math.min(...xs).toFixed(1).padStart(6)}  max ${Math.max(...xs).toFixed(1).padStart(6)}` +
  (floor ? `  ×${(median(xs) / floor).toFixed(2)} of floor` : '');
const now = () => Number(process.hrtime.bigint()) / 1e6;

const fx = await RuntimeFixture.setup();
try {
  const runcRoot = path.join(fx.dir, 'bare-runc');
  const bundle = path.join(fx.dir, 'bare-bundle');
  await fs.mkdir(bundle, { recursive: true });
  const { spec } = await buildSpec({ id: 'bare', rootfs: fx.rootfs, config: { Cmd: ['true'] }, hostConfig: {} });
  delete spec.linux.cgroupsPath;
  await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));

  const floorRun: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = now();
    spawnSync('runc', ['--root', runcRoot, 'run', '-b', bundle, `bare${i}`], { stdio: 'ignore' });
    floorRun.push(now() - t);
  }
  const ours: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = now();
    const c = await fx.create({ Cmd: ['true'] });
    await fx.rt.start(c.id);
    await fx.rt.wait(c.id);
    await fx.rt.delete(c.id);
    ours.push(now() - t);
  }

  const c = await fx.create({ Cmd: ['sleep', '1000'] });
  await fx.rt.start(c.id);
  const floorExec: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = now();
    execFileSync('runc', ['--root', path.join(fx.rt.execRoot, 'runc'), 'exec', c.id, 'true']);
    floorExec.push(now() - t);
  }
  const execs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = now();
    const s = await fx.rt.exec(c.id, newId(), { args: ['true'] });
    s.stdout.resume();
    s.stderr.resume();
    await s.exited;
    execs.push(now() - t);
  }
  const ttyExecs: number[] = [];
  for (let i = 0; i < Math.min(rounds, 10); i++) {
    const t = now();
    const s = await fx.rt.exec(c.id, newId(), { args: ['true'], tty: true });
    s.stdout.resume();
    await s.exited;
    ttyExecs.push(now() - t);
  }
  console.log(`rounds: ${rounds}, load: ${(await fs.readFile('/proc/loadavg', 'utf8')).trim()}`);
  console.log(fmt('floor: runc run true', floorRun));
  console.log(fmt('runtime: create+start+wait+delete true', ours, median(floorRun)));
  console.log(fmt('floor: runc exec true', floorExec));
  console.log(fmt('runtime: exec true (pipes)', execs, median(floorExec)));
  console.log(fmt('runtime: exec -t true (conmon)', ttyExecs, median(floorExec)));
} finally {
  await fx.teardown();
}
