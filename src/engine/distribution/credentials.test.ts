import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, it } from 'node:test';
import { loadCredentials } from './credentials.js';
import { isInsecure } from './hosts.js';

let dir = '';
after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

it('reads Docker config.json credentials', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-creds-'));
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
      'localhost:5000': { auth: b64('u:p') },
      'https://old.example.com/v2/': { username: 'o', password: 'q' },
      'id.example.com': { identitytoken: 'tok' },
    },
  }));
  assert.deepEqual(await loadCredentials('docker.io', dir), { username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(await loadCredentials('localhost:5000', dir), { username: 'u', password: 'p' });
  assert.deepEqual(await loadCredentials('old.example.com', dir), { username: 'o', password: 'q' });
  assert.deepEqual(await loadCredentials('id.example.com', dir), { identityToken: 'tok' });
  assert.equal(await loadCredentials('other:1', dir), undefined);
  assert.equal(await loadCredentials('x', path.join(dir, 'missing')), undefined);
});

it('treats loopback and listed registries as insecure', () => {
  assert.equal(isInsecure('localhost:5000', []), true);
  assert.equal(isInsecure('127.1.2.3:80', []), true);
  assert.equal(isInsecure('[::1]:5000', []), true);
  assert.equal(isInsecure('10.1.2.3:5000', []), false);
  assert.equal(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']), true);
  assert.equal(isInsecure('reg.lan:5000', ['reg.lan:5000']), true);
  assert.equal(isInsecure('docker.io', ['reg.lan:5000']), false);
});
