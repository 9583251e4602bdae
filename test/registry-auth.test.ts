// Registry logins through berthd (htpasswd basic auth, a bearer-token fixture),
// the docker CLI against berthd, and the built-in registry image.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { repoRoot, startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { startProxy, type Proxy } from './helpers/proxy.js';
import { freePort } from './helpers/images.js';
import { berth, dockerCli, run } from './helpers/cli.js';

describe('login and pushes to a registry with htpasswd auth', () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let work: string;
  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-login-'));
    const htpasswd = path.join(work, 'htpasswd');
    await writeFile(htpasswd, `alice:${bcrypt.hashSync('s3cret', 5)}\n`);
    reg = await startRegistry({ htpasswd });
    d = await startTestDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('logs in, writes config.json as Docker does, pushes and pulls with it, and logs out', async () => {
    const env = { DOCKER_CONFIG: path.join(work, 'cfg') };
    const name = `${reg.host}/secure/box`;
    assert.equal((await berth(d, ['tag', 'busybox', name])).code, 0);
    const anon = await berth(d, ['push', name], { env });
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /^no basic auth credentials\n$/m, 'Docker\'s words for a push without credentials');
    const anonPull = await berth(d, ['pull', `${name}:nope`], { env });
    assert.equal(anonPull.code, 1);
    assert.equal(anonPull.stderr, `Error response from daemon: Head "http://${reg.host}/v2/secure/box/manifests/nope": no basic auth credentials\n`);

    const wrong = await berth(d, ['login', '-u', 'alice', '--password-stdin', reg.host], { env, input: 'nope\n' });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `Error response from daemon: login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized\n`);
    assert.equal(existsSync(path.join(work, 'cfg', 'config.json')), false);

    const ok = await berth(d, ['login', '-u', 'alice', '--password-stdin', reg.host], { env, input: 's3cret\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    const cfg = JSON.parse(await readFile(path.join(work, 'cfg', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.auths[reg.host], { auth: Buffer.from('alice:s3cret').toString('base64') });

    const push = await berth(d, ['push', name], { env });
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await berth(d, ['rmi', name])).code, 0);
    const pull = await berth(d, ['pull', name], { env });
    assert.equal(pull.code, 0, pull.stderr);

    assert.equal((await berth(d, ['logout', reg.host], { env })).stdout, `Removing login credentials for ${reg.host}\n`);
    assert.equal((await berth(d, ['logout', reg.host], { env })).stdout, `Not logged in to ${reg.host}\n`);
    assert.notEqual((await berth(d, ['pull', `${name}:nope`], { env })).code, 0);
  });
});

/** A token server and registry gate in front of `reg`: tokens only for alice:s3cret, as Docker Hub's flow. */
async function startTokenFixture(reg: TestRegistry) {
  const tokenRequests: URLSearchParams[] = [];
  const proxy: Proxy = await startProxy(reg.url, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      tokenRequests.push(url.searchParams);
      if (req.headers.authorization !== 'Basic ' + Buffer.from('alice:s3cret').toString('base64')) {
        res.writeHead(401).end('{"details":"incorrect username or password"}');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'good-token', expires_in: 300 }));
      }
      return true;
    }
    if (req.headers.authorization === 'Bearer good-token') return false;
    res.writeHead(401, {
      'WWW-Authenticate': `Bearer realm="${proxy.url}/token",service="berth-test"`,
      'Content-Type': 'application/json',
    }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    return true;
  });
  return { proxy, tokenRequests };
}

describe('bearer-token registry and the docker CLI against berthd', () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let fixture: Awaited<ReturnType<typeof startTokenFixture>>;
  let work: string;
  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-token-'));
    reg = await startRegistry();
    fixture = await startTokenFixture(reg);
    d = await startTestDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await fixture?.proxy.stop();
    await reg?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('logs in through the token flow and pushes and pulls with the token', async () => {
    const env = { DOCKER_CONFIG: path.join(work, 'berth-cfg') };
    const host = fixture.proxy.host;
    const wrong = await berth(d, ['login', '-u', 'alice', '-p', 'bad', host], { env });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /unauthorized: incorrect username or password/);
    const ok = await berth(d, ['login', '-u', 'alice', '-p', 's3cret', host], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /WARNING! Using --password via the CLI is insecure/);
    const name = `${host}/tok/box:v1`;
    assert.equal((await berth(d, ['tag', 'busybox', name])).code, 0);
    const push = await berth(d, ['push', name], { env });
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await berth(d, ['rmi', name])).code, 0);
    const pull = await berth(d, ['pull', name], { env });
    assert.equal(pull.code, 0, pull.stderr);
    assert.ok(fixture.tokenRequests.some((q) => q.get('account') === 'alice' && q.get('service') === 'berth-test'));
    // Without the login the daemon has no credentials: the registry refuses.
    const anon = await berth(d, ['pull', name], { env: { DOCKER_CONFIG: path.join(work, 'empty') } });
    assert.notEqual(anon.code, 0);
  });

  it('serves the docker CLI: login, push, pull', { skip: !existsSync(dockerCli) && 'docker CLI not installed' }, async () => {
    const env = { DOCKER_CONFIG: path.join(work, 'docker-cfg') };
    const host = fixture.proxy.host;
    const login = await run(dockerCli, ['-H', d.host, 'login', '-u', 'alice', '--password-stdin', host], { env, input: 's3cret\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const name = `${host}/dockercli/box:v2`;
    assert.equal((await run(dockerCli, ['-H', d.host, 'tag', 'busybox', name], { env })).code, 0);
    const push = await run(dockerCli, ['-H', d.host, 'push', name], { env });
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /v2: digest: sha256:[a-f0-9]{64} size: \d+/);
    assert.equal((await run(dockerCli, ['-H', d.host, 'rmi', name], { env })).code, 0);
    const pull = await run(dockerCli, ['-H', d.host, 'pull', name], { env });
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: Downloaded newer image for /);
    const missing = await run(dockerCli, ['-H', d.host, 'pull', `${host}/dockercli/none`], { env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /manifest for .*dockercli\/none:latest not found/);
  });
});

describe('the built-in registry image', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon();
  });
  after(async () => {
    await d?.cleanup();
  });

  it('is made by scripts/registry-image.mjs, runs with -p, and takes a push and a pull', async () => {
    const made = await run(process.execPath, [path.join(repoRoot, 'scripts/registry-image.mjs'), '-H', d.host]);
    assert.equal(made.code, 0, made.stderr);
    const cfg = JSON.parse((await berth(d, ['image', 'inspect', 'registry:2'])).stdout)[0].Config;
    assert.deepEqual(cfg.ExposedPorts, { '5000/tcp': {} });
    assert.deepEqual(cfg.Volumes, { '/var/lib/registry': {} });
    const port = await freePort();
    const started = await berth(d, ['run', '-d', '--name', 'reg', '-p', `127.0.0.1:${port}:5000`, 'registry']);
    assert.equal(started.code, 0, started.stderr);
    const host = `127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://${host}/v2/`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 100) assert.fail(`registry container did not answer: ${(await berth(d, ['logs', 'reg'])).stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const name = `${host}/seed/box`;
    assert.equal((await berth(d, ['tag', 'busybox', name])).code, 0);
    const push = await berth(d, ['push', name]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await berth(d, ['rmi', name])).code, 0);
    const pull = await berth(d, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    const catalog = await (await fetch(`http://${host}/v2/_catalog`)).json();
    assert.deepEqual(catalog.repositories, ['seed/box']);
  });
});
