import { spawn } from 'node:child_process';
import { BerthError } from '../../common/errors.js';
import { BatchProcess, runOnce } from './batch-process.js';

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
  private seq = 0;
  private skipCaret = false;
  private readonly process = new BatchProcess<Pending>({
    start: () => spawn('nft', ['-i'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: '/nonexistent' } }),
    onStart: () => { this.skipCaret = false; },
    onLine: (line, oldest) => this.onLine(line, oldest),
    failure: (why, p) => new NftError(`nft process ended (${why})${p.errors.length ? ': ' + p.errors.join(' ') : ''}`),
  });

  /** Applies commands as one atomic transaction. */
  apply(cmds: string[]): Promise<void> {
    const cmd = cmds.map((c) => c.trim()).filter(Boolean).join('; ');
    if (!cmd) return Promise.resolve();
    if (/[\n\r#]/.test(cmd)) return Promise.reject(new NftError('nft commands must be single-line without comments'));
    return new Promise<void>((resolve, reject) => {
      const sentinel = `list table ip bsync${this.seq++}`;
      this.process.send({ sentinel, errors: [], resolve, reject }, `${cmd}\n${sentinel}\n`);
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
    this.process.close();
  }

  /** One stderr line of `nft -i`: an error of the oldest change, or its sentinel's echo, which completes it. */
  private onLine(line: string, p: Pending | undefined): void {
    // nft underlines the failed command with a caret line after echoing it.
    if (this.skipCaret && /^\s*\^+\s*$/.test(line)) { this.skipCaret = false; return; }
    this.skipCaret = false;
    if (!p) return;
    if (line === p.sentinel) {
      p.errors.pop(); // the sentinel's own "Error: No such file or directory"
      this.process.shift();
      this.skipCaret = true;
      if (p.errors.length === 0) p.resolve();
      else p.reject(new NftError(`nft: ${p.errors.filter((l) => l.startsWith('Error')).join('; ') || p.errors[0]}`));
      return;
    }
    p.errors.push(line);
  }
}

function runNft(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runOnce('nft', args);
}
