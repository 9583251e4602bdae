// `berth registry serve|gc` as commands: flags, clear refusals of bad input,
// a clean stop on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/registry/main.js');
let dir = '';
before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'berth-reg-cli-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

it('refuses bad flags with a clear message', async () => {
  await writeFile(path.join(dir, 'plain'), 'alice:plaintext\n');
  await assert.rejects(run(process.execPath, [mainJs, 'serve', '--addr', '127.0.0.1:0', '--root', dir, '--htpasswd', path.join(dir, 'plain')]),
    (e: any) => e.code === 1 && /not a bcrypt htpasswd entry/.test(e.stderr));
  await assert.rejects(run(process.execPath, [mainJs, 'serve', '--addr', '127.0.0.1:0', '--root', dir, '--tls-cert', path.join(dir, 'plain')]),
    (e: any) => /--tls-cert and --tls-key go together/.test(e.stderr));
  await assert.rejects(run(process.execPath, [mainJs, 'serve', '--addr', 'nonsense', '--root', dir]),
    (e: any) => /invalid listen address "nonsense"/.test(e.stderr));
});

it('serves until SIGTERM, then gc reports what it removed', async () => {
  const root = path.join(dir, 'root');
  const p = spawn(process.execPath, [mainJs, 'serve', '--addr', '127.0.0.1:0', '--root', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      p.stdout!.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
      p.once('exit', () => reject(new Error(out)));
    });
    const body = new TextEncoder().encode('orphan');
    const r = await fetch(`${url}/v2/x/blobs/uploads/?digest=sha256:${(await import('node:crypto')).createHash('sha256').update(body).digest('hex')}`, { method: 'POST', body });
    assert.equal(r.status, 201);
  } finally {
    const code = new Promise((r) => p.once('exit', (c) => r(c)));
    p.kill('SIGTERM');
    assert.equal(await code, 0);
  }
  const { stdout } = await run(process.execPath, [mainJs, 'gc', '--root', root, '--dry-run']);
  assert.equal(stdout, 'would delete 1 blobs (6 bytes) and 0 stale uploads; kept 0 blobs\n');
  assert.equal((await run(process.execPath, [mainJs, 'gc', '--root', root])).stdout, 'deleted 1 blobs (6 bytes) and 0 stale uploads; kept 0 blobs\n');
  assert.equal((await run(process.execPath, [mainJs, 'gc', '--root', root])).stdout, 'deleted 0 blobs (0 bytes) and 0 stale uploads; kept 0 blobs\n');
});
