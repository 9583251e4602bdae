import { spawn } from 'node:child_process';
import { BerthError } from '../../common/errors.js';
import { BatchProcess, runOnce } from './batch-process.js';

/**
 * The only module that runs iproute2's `ip`.
 *
 * Spawning a process costs 5-10 ms on these machines, more than the whole
 * netlink work of attaching a container, so host-side commands go to one
 * long-lived `ip -force -batch -` process fed line by line. After each batch a
 * sentinel command that is certain to fail is written; its error on stderr
 * marks the end of the batch, and every `Command failed -:N` before it names a
 * failed line. Commands that must run inside another network namespace need
 * their own process (`ip -n NAME`): an `ip` process cannot switch namespaces
 * mid-batch. Such a runner (`new IpRunner('berth-abc')`) works the same way,
 * so its caller learns a batch is done from the sentinel, without waiting
 * for the process to be scheduled again just to exit (under load that wait
 * alone measured 90 ms).
 *
 *   const ip = new IpRunner();
 *   await ip.batch(['link add br-x type bridge', 'link set br-x up']);
 *   await ip.batchInNetns('berth-abc', ['link set lo up']);
 *   ip.close();
 */
export class IpError extends BerthError {
  constructor(message: string, readonly failedCommand: string) {
    super(message);
  }
}

interface Pending { lines: string[]; firstLine: number; sentinel: string; errors: string[]; failed?: string; resolve: () => void; reject: (e: Error) => void }

/** Characters an argument may hold; anything else could make `ip` exit or misparse. */
const safeArg = /^[A-Za-z0-9_.:/@+=,-]+$/;

/** Refuses a command line `ip` might misparse: the persistent process must never see a surprise. */
export function checkIpCommand(cmd: string): void {
  for (const word of cmd.trim().split(/\s+/)) {
    if (!safeArg.test(word)) throw new IpError(`refusing unsafe ip argument ${JSON.stringify(word)}`, cmd);
  }
}

export class IpRunner {
  /** `netns`: run inside that namespace (a name under /run/netns) instead of the daemon's. */
  constructor(readonly netns?: string) {
    if (netns) checkIpCommand(netns);
  }

  private lineNo = 0;
  private seq = 0;
  private readonly process = new BatchProcess<Pending>({
    start: () => spawn('ip', [...(this.netns ? ['-n', this.netns] : []), '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] }),
    onStart: () => { this.lineNo = 0; },
    onLine: (line, oldest) => this.onLine(line, oldest),
    failure: (why, p) => new IpError(`ip batch process ended (${why})${p.errors.length ? ': ' + p.errors[0] : ''}`, p.lines[0]),
  });

  /**
   * Runs host-namespace commands in order. On failure the error carries the
   * first failed command; later commands of the same batch still ran (`-force`),
   * so callers that need all-or-nothing undo on error.
   */
  batch(cmds: string[]): Promise<void> {
    if (cmds.length === 0) return Promise.resolve();
    try {
      for (const c of cmds) checkIpCommand(c);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const sentinel = `bsync${(this.seq++ % 0xfffffff).toString(16)}`;
      // Line numbers count from the process start: send() starts it first if needed.
      const text = cmds.join('\n') + `\nlink show dev ${sentinel}\n`;
      const p: Pending = { lines: cmds, firstLine: 0, sentinel, errors: [], resolve, reject };
      this.process.send(p, text, () => {
        p.firstLine = this.lineNo + 1;
        this.lineNo += cmds.length + 1;
      });
    });
  }

  /** Runs commands inside the named netns (a file under /run/netns) with one short-lived process. */
  async batchInNetns(netns: string, cmds: string[]): Promise<void> {
    checkIpCommand(netns);
    for (const c of cmds) checkIpCommand(c);
    const { code, stderr } = await runIp(['-n', netns, '-batch', '-'], cmds.join('\n') + '\n');
    if (code !== 0) {
      const m = /Command failed -:(\d+)/.exec(stderr);
      const failed = m ? cmds[Number(m[1]) - 1] ?? '' : '';
      throw new IpError(`ip in netns ${netns}: ${firstLine(stderr) || `exit ${code}`}${failed ? ` (${failed})` : ''}`, failed);
    }
  }

  /**
   * Starts `ip -n NETNS -batch -` now, runs `first` at once and leaves it
   * waiting for the rest: the process start (the dominant cost of attaching)
   * is paid before a container asks for its network.
   */
  prepareInNetns(netns: string, first: string[]): PreparedIp {
    return new PreparedIp(netns, first);
  }

  /** `ip -json <args>` parsed, for read-only queries (routes, links, addresses). */
  async query<T = any>(args: string[]): Promise<T> {
    const { code, stdout, stderr } = await runIp(['-json', ...args], '');
    if (code !== 0) throw new IpError(`ip ${args.join(' ')}: ${firstLine(stderr)}`, args.join(' '));
    return JSON.parse(stdout || '[]') as T;
  }

  /** Lets the process finish what it was sent and exit on its own (nobody waits for it). */
  end(): void {
    this.process.end();
  }

  /** Ends the persistent process (pending batches fail). */
  close(): void {
    this.process.close();
  }

  /** One stderr line of the batch process: an error of the oldest batch, or its sentinel's failure, which completes it. */
  private onLine(line: string, p: Pending | undefined): void {
    if (!p) return;
    if (line.includes(`"${p.sentinel}"`)) return; // the sentinel's own message
    const m = /^Command failed -:(\d+)$/.exec(line);
    if (!m) { p.errors.push(line); return; }
    const n = Number(m[1]);
    if (n === p.firstLine + p.lines.length) {
      // The sentinel failed as planned: this batch is complete.
      this.process.shift();
      // Only a `Command failed` line means failure; other stderr output may be a mere warning.
      if (p.failed === undefined) p.resolve();
      else p.reject(new IpError(`ip: ${p.errors[0].replace(/^Error: /, '')} (${p.failed})`, p.failed));
    } else {
      p.failed ??= p.lines[n - p.firstLine] ?? '';
      if (p.errors.length === 0) p.errors.push('command failed');
    }
  }
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() && !l.startsWith('Command failed'))?.trim() ?? '';
}

function runIp(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runOnce('ip', args, input);
}

/** An `ip -n` process waiting inside a namespace for its commands (see IpRunner.prepareInNetns). */
export class PreparedIp {
  private runner: IpRunner;
  private first: Promise<void>;
  private finished = false;

  constructor(readonly netns: string, first: string[]) {
    this.runner = new IpRunner(netns);
    this.first = this.runner.batch(first);
    // Reported by finish(); a pool entry never finished must not raise an unhandled rejection.
    this.first.catch(() => {});
  }

  get used(): boolean {
    return this.finished;
  }

  /** Resolves when the first commands have run (the process keeps waiting for more). */
  done(): Promise<void> {
    return this.first;
  }

  /** Runs the remaining commands; resolves once they are done (the process then exits on its own). Only once. */
  async finish(cmds: string[] = []): Promise<void> {
    if (this.finished) throw new IpError('prepared ip process already used', cmds[0] ?? '');
    this.finished = true;
    try {
      const rest = this.runner.batch(cmds);
      rest.catch(() => {});
      await this.first.catch((e) => { throw new IpError(`ip in netns ${this.netns}: ${e.message.replace(/^ip: /, '')}`, e.failedCommand ?? ''); });
      await rest.catch((e) => { throw new IpError(`ip in netns ${this.netns}: ${e.message.replace(/^ip: /, '')}`, e.failedCommand ?? ''); });
    } finally {
      this.runner.end();
    }
  }
}
