import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BatchProcess, runOnce, type QueuedBatch } from './batch-process.js';

/**
 * A stand-in tool: for each stdin line it writes `done <line>` to stderr,
 * `bad <line>` for a line starting with "bad", and exits on "die".
 */
const toolScript = `
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'die') process.exit(3);
      process.stderr.write((line.startsWith('bad') ? 'bad ' : 'done ') + line + '\\n');
    }
  });`;

interface Pending extends QueuedBatch { end: string; errors: string[] }

function makeTool() {
  let starts = 0;
  const proc: BatchProcess<Pending> = new BatchProcess<Pending>({
    start: () => { starts++; return spawn(process.execPath, ['-e', toolScript], { stdio: ['pipe', 'pipe', 'pipe'] }); },
    onLine: (line, oldest) => {
      if (!oldest) return;
      if (line.startsWith('bad ')) { oldest.errors.push(line); return; }
      if (line === `done ${oldest.end}`) {
        proc.shift();
        if (oldest.errors.length) oldest.reject(new Error(oldest.errors.join('; ')));
        else oldest.resolve();
      }
    },
    failure: (why) => new Error(`tool ended (${why})`),
  });
  const run = (lines: string[]) => new Promise<void>((resolve, reject) => {
    const end = `end${Math.random().toString(16).slice(2)}`;
    proc.send({ end, errors: [], resolve, reject }, [...lines, end].join('\n') + '\n');
  });
  return { proc, run, starts: () => starts };
}

test('batches are answered in order by one process, errors go to the batch they belong to', async () => {
  const { proc, run, starts } = makeTool();
  try {
    const results = await Promise.allSettled([run(['a', 'b']), run(['bad c', 'd']), run(['e'])]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /bad bad c/);
    assert.equal(starts(), 1);
  } finally {
    proc.close();
  }
});

test('when the process dies every waiting batch fails, and the next batch starts a new one', async () => {
  const { proc, run, starts } = makeTool();
  try {
    const waiting = [run(['die']), run(['x'])];
    for (const w of waiting) await assert.rejects(w, /tool ended \(exit 3\)/);
    await run(['after']);
    assert.equal(starts(), 2);
  } finally {
    proc.close();
  }
});

test('runOnce collects the output and exit code, with and without input', async () => {
  const withInput = await runOnce(process.execPath, ['-e', 'process.stdin.pipe(process.stdout); process.stderr.write("e")'], 'hello');
  assert.deepEqual(withInput, { code: 0, stdout: 'hello', stderr: 'e' });
  const failing = await runOnce(process.execPath, ['-e', 'process.exit(4)']);
  assert.equal(failing.code, 4);
  await assert.rejects(runOnce('/nonexistent/tool', []), /ENOENT/);
});
