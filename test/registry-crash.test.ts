// A registry process killed with SIGKILL in the middle of uploads: after a
// restart nothing partial is visible, and the interrupted session resumes from
// the bytes that reached the disk.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { blob, u8 } from './helpers/registry.js';

const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/registry/main.js');
const procs: ChildProcess[] = [];
let root = '';

after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (root) await rm(root, { recursive: true, force: true });
});

async function startProcess(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [mainJs, 'serve', '--addr', '127.0.0.1:0', '--root', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^ ]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`registry exited with ${code}: ${out}`)));
  });
  return { proc, url };
}

async function killed(proc: ChildProcess): Promise<void> {
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await gone;
}

/** Starts a request whose body is streamed by hand and never finished. */
function openStream(url: string, method: string): http.ClientRequest {
  const req = http.request(url, { method, headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/octet-stream' } });
  req.on('error', () => { /* the server dies under it: expected */ });
  return req;
}

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('a killed server never shows a partial blob and resumes the upload after restart', async () => {
  root = await mkdtemp(path.join(tmpdir(), 'berth-reg-crash-'));
  const big = blob(randomBytes(4 << 20));
  const first = await startProcess();

  // Session upload: a PATCH cut off half way.
  const start = await fetch(`${first.url}/v2/crash/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const loc = start.headers.get('location')!;
  const uuid = loc.split('/').pop()!;
  const patch = openStream(first.url + loc, 'PATCH');
  patch.write(big.bytes.subarray(0, 1 << 20));
  // Monolithic upload of the same blob under another repository, also cut off.
  const mono = openStream(`${first.url}/v2/crash2/blobs/uploads/?digest=${big.digest}`, 'POST');
  mono.write(big.bytes.subarray(0, 1 << 20));
  const dataFile = path.join(root, 'uploads', uuid, 'data');
  await waitFor(async () => (await stat(dataFile)).size > 0);
  await waitFor(async () => (await readdir(path.join(root, 'uploads'))).length === 2);
  await killed(first.proc);

  const second = await startProcess();
  for (const repo of ['crash', 'crash2']) {
    assert.equal((await fetch(`${second.url}/v2/${repo}/blobs/${big.digest}`, { method: 'HEAD' })).status, 404);
  }
  const hex = big.digest.slice(7);
  assert.equal(existsSync(path.join(root, 'blobs', 'sha256', hex.slice(0, 2), hex)), false, 'no blob file may exist');

  // The session reports what reached the disk and accepts the rest from there.
  const status = await fetch(second.url + loc);
  assert.equal(status.status, 204);
  const have = Number(/^0-(\d+)$/.exec(status.headers.get('range')!)![1]) + 1;
  assert.ok(have > 0 && have <= 1 << 20, `resumed at ${have}`);
  const rest = await fetch(`${second.url}${loc}?digest=${big.digest}`, {
    method: 'PUT', body: u8(big.bytes.subarray(have)), headers: { 'Content-Range': `${have}-${big.size - 1}` },
  });
  // Content-Range on PUT is optional; the server appends what it gets.
  assert.equal(rest.status, 201, await rest.text());
  const got = Buffer.from(await (await fetch(`${second.url}/v2/crash/blobs/${big.digest}`)).arrayBuffer());
  assert.ok(got.equals(big.bytes), 'resumed blob is whole and correct');
  // The other repository never got a link to it.
  assert.equal((await fetch(`${second.url}/v2/crash2/blobs/${big.digest}`, { method: 'HEAD' })).status, 404);
  await killed(second.proc);
});
