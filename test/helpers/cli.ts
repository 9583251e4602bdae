/**
 * The berth CLI and other programs run without blocking the test process: the
 * registries and fixtures a test talks through live in it and must keep
 * answering meanwhile (spawnSync would stall them).
 */
import { spawn } from 'node:child_process';
import { berthBin, type TestDaemon } from './daemon.js';

export interface RunResult { code: number; stdout: string; stderr: string }

export function berth(d: TestDaemon, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(process.execPath, [berthBin, ...args], { ...opts, env: { BERTH_HOST: d.host, DOCKER_HOST: '', ...opts.env } });
}

export const dockerCli = '/usr/local/bin/docker';

export function run(bin: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    p.stdin.end(opts.input ?? '');
  });
}
