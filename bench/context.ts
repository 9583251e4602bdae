import { spawnSync } from 'node:child_process';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { berthBin } from '../test/helpers/daemon.js';
import type { RuncFloor } from './floor.js';
import { run, timeCommand, type Row, type Sample } from './harness.js';

/**
 * What every workload group gets: a berthd of its own (temp roots), the runc
 * floor, the peer engine's socket when one was given, and helpers that time
 * one command through each client.
 */
export interface BenchContext {
  daemon: TestDaemon;
  floor: RuncFloor;
  /** Scratch directory removed after the run. */
  base: string;
  rounds: number;
  /** `unix:///path.sock` of another engine (Docker 20.10 here), if given. */
  peer?: string;
  /** `docker` when the docker CLI is installed. */
  dockerCli?: string;
  /** Times `berth ARGS` against the bench daemon. */
  berth(args: string[], input?: string): Sample;
  /** Times `docker -H HOST ARGS` (legacy builder, no BuildKit). */
  docker(host: string, args: string[], input?: string): Sample;
  /** Runs `berth ARGS` untimed and returns stdout; throws when it fails. */
  berthOut(args: string[], input?: string): string;
  /** Runs `docker -H HOST ARGS` untimed and returns stdout; throws when it fails. */
  dockerOut(host: string, args: string[], input?: string): string;
}

/** A named group of workloads; `--only NAME` picks groups. */
export interface WorkloadGroup {
  name: string;
  /** One line for `--help`. */
  describe: string;
  /** A subset of another group, for iterating on one workload: runs only when `--only` names it. */
  onlyWhenNamed?: boolean;
  run(ctx: BenchContext): Promise<Row[]>;
}

export function makeContext(daemon: TestDaemon, floor: RuncFloor, base: string, rounds: number, peer?: string): BenchContext {
  const dockerCli = spawnSync('docker', ['--version']).status === 0 ? 'docker' : undefined;
  const berthEnv = { ...process.env, BERTH_HOST: daemon.host };
  const dockerEnv = { ...process.env, DOCKER_BUILDKIT: '0' };
  return {
    daemon, floor, base, rounds, peer, dockerCli,
    berth: (a, input) => timeCommand(berthBin, a, { env: berthEnv, input }),
    docker: (host, a, input) => timeCommand('docker', ['-H', host, ...a], { env: dockerEnv, input }),
    berthOut: (a, input) => run(berthBin, a, { env: berthEnv, input }),
    dockerOut: (host, a, input) => run('docker', ['-H', host, ...a], { env: dockerEnv, input }),
  };
}
