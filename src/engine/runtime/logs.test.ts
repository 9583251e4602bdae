import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerTime, readLogs, timeSeconds, type LogEntry, type LogReadOptions } from './logs.js';

async function all(file: string, o: LogReadOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const b of readLogs(file, o)) out.push(...b);
  return out;
}
const text = (es: LogEntry[]) => es.map((e) => `${e.stream}:${e.line.toString()}`).join('');

describe('k8s-file log reader', () => {
  let dir: string;
  before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-logs-')); });
  after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

  const sample = [
    '2026-11-27T10:00:00.100000000+00:00 stdout F one',
    '2026-11-27T10:00:01.000000000+00:00 stderr F err1',
    '2026-11-27T10:00:02.000000000+00:00 stdout P par',
    '2026-11-27T10:00:02.500000000+00:00 stdout P t',
    '2026-11-27T10:00:03.000000000+00:00 stdout F ial',
    '2026-11-27T10:00:04.000000000+00:00 stdout F ',
    '2026-11-27T10:00:05.000000000+00:00 stderr F err2',
    '2026-11-27T10:00:06.000000000+00:00 stdout P no-newline',
  ].join('\n') + '\n';

  it('joins partial lines, keeps streams apart and empty lines', async () => {
    const f = path.join(dir, 'a.log');
    await fs.writeFile(f, sample);
    assert.equal(text(await all(f)), 'stdout:one\nstderr:err1\nstdout:partial\nstdout:\nstderr:err2\nstdout:no-newline');
    assert.equal(text(await all(f, { stderr: false })), 'stdout:one\nstdout:partial\nstdout:\nstdout:no-newline');
    const es = await all(f);
    assert.equal(dockerTime(es[2].time), '2026-11-27T10:00:02Z', 'a joined line carries its first record\'s time');
    assert.equal(dockerTime(es[0].time), '2026-11-27T10:00:00.1Z');
  });

  it('tails the last N messages (partial records count with their line)', async () => {
    const f = path.join(dir, 'b.log');
    await fs.writeFile(f, sample);
    assert.equal(text(await all(f, { tail: 2 })), 'stdout:\nstderr:err2\nstdout:no-newline');
    assert.equal(text(await all(f, { tail: 4 })), 'stderr:err1\nstdout:partial\nstdout:\nstderr:err2\nstdout:no-newline');
    assert.equal(text(await all(f, { tail: 100 })).split('\n').length, 6);
    assert.equal(text(await all(f, { tail: 0 })), '');
    assert.equal(text(await all(f, { tail: 1, stdout: false })), 'stderr:err2\n');
  });

  it('filters by since and until', async () => {
    const f = path.join(dir, 'c.log');
    await fs.writeFile(f, sample);
    const since = timeSeconds('2026-11-27T10:00:01Z');
    const until = timeSeconds('2026-11-27T10:00:04Z');
    assert.equal(text(await all(f, { since, until })), 'stderr:err1\nstdout:partial\nstdout:\n');
  });

  it('follows a growing file until told to stop', async () => {
    const f = path.join(dir, 'd.log');
    await fs.writeFile(f, '2026-11-27T10:00:00.000000000+00:00 stdout F first\n');
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const seen: string[] = [];
    const reader = (async () => {
      for await (const b of readLogs(f, { follow: true, stop: stopped })) for (const e of b) seen.push(e.line.toString());
    })();
    await new Promise((r) => setTimeout(r, 100));
    await fs.appendFile(f, '2026-11-27T10:00:01.000000000+00:00 stdout F second\n');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, ['first\n', 'second\n']);
    await fs.appendFile(f, '2026-11-27T10:00:02.000000000+00:00 stdout F third\n');
    stop();
    await reader;
    assert.deepEqual(seen, ['first\n', 'second\n', 'third\n']);
  });

  it('streams 200,000 lines in well under a second', async () => {
    const f = path.join(dir, 'big.log');
    const lines: string[] = [];
    for (let i = 0; i < 200000; i++) lines.push(`2026-11-27T10:00:00.${String(i).padStart(9, '0')}+00:00 stdout F line number ${i}`);
    await fs.writeFile(f, lines.join('\n') + '\n');
    const t0 = process.hrtime.bigint();
    let n = 0;
    let bytes = 0;
    for await (const b of readLogs(f)) for (const e of b) { n++; bytes += e.line.length; }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(n, 200000);
    assert.ok(bytes > 200000 * 14);
    console.log(`# 200000 log lines read in ${ms.toFixed(0)} ms`);
    assert.ok(ms < 1000, `took ${ms} ms`);
    const t1 = process.hrtime.bigint();
    const last = await all(f, { tail: 10 });
    assert.equal(last.length, 10);
    assert.equal(last[9].line.toString(), 'line number 199999\n');
    console.log(`# tail 10 of 200000 in ${(Number(process.hrtime.bigint() - t1) / 1e6).toFixed(1)} ms`);
  });

  it('converts timestamps to Docker\'s UTC form', () => {
    assert.equal(dockerTime('2026-11-27T12:00:00.500000000+02:00'), '2026-11-27T10:00:00.5Z');
    assert.equal(dockerTime('2026-11-27T10:00:00.000000000+00:00'), '2026-11-27T10:00:00Z');
  });
});
