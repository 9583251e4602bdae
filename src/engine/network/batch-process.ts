import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A batch of commands waiting for its answer; the tool's runner adds what its parser needs. */
export interface QueuedBatch {
  resolve(): void;
  reject(err: Error): void;
}

/** What a BatchProcess needs to know of its tool. */
export interface BatchTool<B extends QueuedBatch> {
  /** Starts the tool reading commands from stdin (`ip -batch -`, `nft -i`). */
  start(): ChildProcessWithoutNullStreams;
  /** A fresh process started: reset any per-process parser state. */
  onStart?(): void;
  /**
   * One line the tool wrote on stderr, with the batch waiting longest (the one
   * the line belongs to: answers come in order). The runner calls `shift()`
   * and settles that batch once the line shows the batch complete.
   */
  onLine(line: string, oldest: B | undefined): void;
  /** The error every waiting batch gets when the process ends (`why`: exit code, signal or spawn error). */
  failure(why: string, batch: B): Error;
}

/**
 * One long-lived command-line tool fed batches of commands on stdin, for
 * tools whose process start costs more than the work asked of them (`ip`:
 * 5-10 ms, `nft`: 10-25 ms on these machines). Answers come back in order on
 * stderr; the tool's `onLine` recognises where a batch ends (each runner
 * writes a sentinel command after a batch, one certain to fail, and waits for
 * its error). The process is started on first use and again after it died;
 * when it dies every waiting batch fails. It holds the event loop only while
 * a batch waits, so an idle tool never keeps the daemon from exiting.
 *
 *   const p = new BatchProcess<Pending>({ start: () => spawn('nft', ['-i']), onLine, failure });
 *   p.send(pending, 'add table ip t\nlist table ip bsync1\n');   // onLine later calls p.shift() and settles it
 */
export class BatchProcess<B extends QueuedBatch> {
  private proc?: ChildProcessWithoutNullStreams;
  private queue: B[] = [];
  private partial = '';

  constructor(private readonly tool: BatchTool<B>) {}

  /**
   * Queues `batch` and writes its command text (sentinel included) to the
   * tool. `beforeWrite` runs once the process is (re)started, just before the
   * write: for state counted from the process start (ip's line numbers).
   */
  send(batch: B, input: string, beforeWrite?: () => void): void {
    const proc = this.ensure();
    beforeWrite?.();
    this.queue.push(batch);
    this.hold(true);
    proc.stdin.write(input);
  }

  /** Takes the oldest batch off the queue once its answer is complete; the caller settles it. */
  shift(): B | undefined {
    const b = this.queue.shift();
    if (this.queue.length === 0) this.hold(false);
    return b;
  }

  /** Lets the process finish what it was sent and exit on its own (nobody waits for it). */
  end(): void {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    p.removeAllListeners('exit');
    p.on('exit', () => {});
    p.stdin.end();
    p.unref();
  }

  /** Ends the process now; waiting batches fail. */
  close(): void {
    this.proc?.stdin.end();
    this.proc?.kill();
    this.proc = undefined;
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = this.tool.start();
    this.proc = proc;
    this.partial = '';
    this.tool.onStart?.();
    proc.stdout.resume();
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => this.onStderr(d));
    proc.stdin.on('error', () => { /* reported through 'exit' */ });
    const fail = (why: string) => {
      if (this.proc === proc) this.proc = undefined;
      const q = this.queue;
      this.queue = [];
      for (const b of q) b.reject(this.tool.failure(why, b));
    };
    proc.on('exit', (code, sig) => fail(sig ?? `exit ${code}`));
    proc.on('error', (e) => fail(e.message));
    this.hold(false);
    return proc;
  }

  private hold(on: boolean): void {
    const p = this.proc;
    if (!p) return;
    for (const x of [p, p.stdin, p.stdout, p.stderr] as any[]) on ? x.ref?.() : x.unref?.();
  }

  private onStderr(data: string): void {
    this.partial += data;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      this.tool.onLine(line, this.queue[0]);
    }
  }
}

/** Runs a tool once to completion with `input` on stdin (none when undefined), collecting its output. */
export function runOnce(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d) => { stdout += d; });
    p.stderr!.setEncoding('utf8').on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (input !== undefined) {
      p.stdin!.on('error', () => {});
      p.stdin!.end(input);
    }
  });
}
