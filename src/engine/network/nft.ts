import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BerthError } from '../../common/errors.js';

/**
 * The only module that runs `nft`.
 *
 * A process start costs 10-25 ms here, so changes go to one long-lived
 * `nft -i` process. Each change is sent as ONE line of `;`-separated commands:
 * nft runs a line as one transaction, so a change applies completely or not
 * at all. A sentinel command that always fails follows each line; its echo on
 * stderr ends the change, and any error printed before it belongs to it.
 *
 *   const nft = new NftRunner();
 *   await nft.apply(['add table ip berth', 'add chain ip berth c']);
 *   const tables = await nft.query(['list', 'tables']);
 */
export class NftError extends BerthError {}

interface Pending { sentinel: string; errors: string[]; resolve: () => void; reject: (e: Error) => void }

export class NftRunner {
  private proc?: ChildProcessWithoutNullStreams;
  private queue: Pending[] = [];
  private buf = '';
  private seq = 0;
  private skipCaret = false;

  /** Applies commands as one atomic transaction. */
  apply(cmds: string[]): Promise<void> {
    const cmd = cmds.map((c) => c.trim()).filter(Boolean).join('; ');
    if (!cmd) return Promise.resolve();
    if (/[\n\r#]/.test(cmd)) return Promise.reject(new NftError('nft commands must be single-line without comments'));
    const proc = this.ensure();
    return new Promise<void>((resolve, reject) => {
      const sentinel = `list table ip bsync${this.seq++}`;
      this.queue.push({ sentinel, errors: [], resolve, reject });
      this.hold(true);
      proc.stdin.write(`${cmd}\n${sentinel}\n`);
    });
  }

  /** `nft -j <args>` parsed (one-shot process), for read-only questions. */
  async query(args: string[]): Promise<any> {
    const { code, stdout, stderr } = await runNft(['-j', ...args]);
    if (code !== 0) throw new NftError(`nft ${args.join(' ')}: ${stderr.trim().split('\n')[0]}`);
    return JSON.parse(stdout || '{"nftables":[]}');
  }

  /** `nft list ruleset` as text (what an administrator reads), for the host firewall check. */
  async listRuleset(): Promise<string> {
    const { code, stdout, stderr } = await runNft(['list', 'ruleset']);
    if (code !== 0) throw new NftError(`nft list ruleset: ${stderr.trim().split('\n')[0]}`);
    return stdout;
  }

  /** True when the table exists. */
  async hasTable(family: string, name: string): Promise<boolean> {
    const r = await this.query(['list', 'tables']);
    return (r.nftables as any[]).some((o) => o.table && o.table.family === family && o.table.name === name);
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc?.kill();
    this.proc = undefined;
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = spawn('nft', ['-i'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: '/nonexistent' } });
    this.proc = proc;
    this.buf = '';
    this.skipCaret = false;
    proc.stdout.resume();
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => this.onStderr(d));
    proc.stdin.on('error', () => {});
    const fail = (why: string) => {
      if (this.proc === proc) this.proc = undefined;
      const q = this.queue;
      this.queue = [];
      for (const p of q) p.reject(new NftError(`nft process ended (${why})${p.errors.length ? ': ' + p.errors.join(' ') : ''}`));
    };
    proc.on('exit', (code, sig) => fail(sig ?? `exit ${code}`));
    proc.on('error', (e) => fail(e.message));
    this.hold(false);
    return proc;
  }

  /** Keeps the event loop alive only while answers are awaited, so an idle helper never blocks exit. */
  private hold(on: boolean): void {
    const p = this.proc;
    if (!p) return;
    for (const x of [p, p.stdin, p.stdout, p.stderr] as any[]) on ? x.ref?.() : x.unref?.();
  }

  private onStderr(data: string): void {
    this.buf += data;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (this.skipCaret && /^\s*\^+\s*$/.test(line)) { this.skipCaret = false; continue; }
      this.skipCaret = false;
      const p = this.queue[0];
      if (!p) continue;
      if (line === p.sentinel) {
        p.errors.pop(); // the sentinel's own "Error: No such file or directory"
        this.queue.shift();
        if (this.queue.length === 0) this.hold(false);
        this.skipCaret = true;
        if (p.errors.length === 0) p.resolve();
        else p.reject(new NftError(`nft: ${p.errors.filter((l) => l.startsWith('Error')).join('; ') || p.errors[0]}`));
        continue;
      }
      p.errors.push(line);
    }
  }
}

function runNft(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('nft', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
