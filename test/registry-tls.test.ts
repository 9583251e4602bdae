// `berth registry serve --tls-cert --tls-key`: HTTPS that a verifying client
// (skopeo with the CA in a cert dir) accepts, and our client finds on its own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { RegistryClient } from '../src/engine/distribution/client.js';
import { resolveHost } from '../src/engine/distribution/hosts.js';
import { makeImage, startRegistry, type TestRegistry } from './helpers/registry.js';

const run = promisify(execFile);
let dir = '';
let reg: TestRegistry | undefined;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-reg-tls-'));
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  reg = await startRegistry({ tlsCert: path.join(dir, 'cert.pem'), tlsKey: path.join(dir, 'key.pem') });
});
after(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('serves HTTPS that verifies against its certificate', async () => {
  const ca = await readFile(path.join(dir, 'cert.pem'), 'utf8');
  const status = await new Promise<number>((resolve, reject) => {
    https.get(`${reg!.url}/v2/`, { ca }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
  });
  assert.equal(status, 200);
  // Without the CA a verifying client refuses it.
  await assert.rejects(new Promise((resolve, reject) => https.get(`${reg!.url}/v2/`, resolve).on('error', reject)), /self.signed/);
  // Plain HTTP to the TLS port gets nowhere.
  await assert.rejects(fetch(`http://${reg!.host}/v2/`));
});

it('our client finds TLS on a loopback registry and loads certs.d CAs', async () => {
  const certs = path.join(dir, 'certs.d');
  await mkdir(path.join(certs, reg!.host), { recursive: true });
  await writeFile(path.join(certs, reg!.host, 'ca.crt'), await readFile(path.join(dir, 'cert.pem')));
  const host = await resolveHost(reg!.host, { certsDir: certs });
  assert.equal(host.tls.ca?.length, 1);
  const c = new RegistryClient({ certsDir: certs, dockerConfigDir: '/nonexistent' });
  try {
    const img = makeImage([100]);
    const repo = { domain: reg!.host, path: 'tls/app' };
    for (const b of [img.config, ...img.layers]) await c.pushBlob(repo, b, () => Readable.from([b.bytes]));
    await c.putManifest(repo, 'v1', img.manifest, img.mediaType);
    assert.equal((await c.resolveManifest(`${reg!.host}/tls/app:v1`)).digest, img.digest);
  } finally {
    await c.close();
  }
});

it('skopeo pushes over verified TLS with the CA in --dest-cert-dir', { skip: !existsSync('/usr/bin/skopeo') && 'skopeo not installed' }, async () => {
  const certDir = path.join(dir, 'skopeo-certs');
  await mkdir(certDir, { recursive: true });
  await writeFile(path.join(certDir, 'ca.crt'), await readFile(path.join(dir, 'cert.pem')));
  const { stdout } = await run('/usr/bin/skopeo', ['inspect', '--cert-dir', certDir, `docker://${reg!.host}/tls/app:v1`]);
  assert.equal(JSON.parse(stdout).Layers.length, 1);
  await run('/usr/bin/skopeo', ['copy', '--src-cert-dir', certDir, '--dest-cert-dir', certDir, `docker://${reg!.host}/tls/app:v1`, `docker://${reg!.host}/tls/copy:v1`]);
  // Verification is on: without the CA skopeo refuses.
  await assert.rejects(run('/usr/bin/skopeo', ['inspect', `docker://${reg!.host}/tls/copy:v1`]), /certificate/);
});
