import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The seed's "Volumes" and "Docker commit" sections with busybox, and the
// container filesystem endpoints (diff, archive, stats) through real clients.
let d: TestDaemon;
let work: string;
before(async () => {
  d = await startTestDaemon();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-fs-'));
});
after(async () => {
  await d?.cleanup();
  await fs.rm(work, { recursive: true, force: true });
});

const hasDocker = spawnSync('docker', ['--version']).status === 0;
function docker(args: string[]) {
  return spawnSync('docker', ['-H', d.host, ...args], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: '' } });
}

test('seed backup: data-only container, --volumes-from, tar into a bind mount, restore into a fresh volume', async () => {
  const mk = d.berth(['run', '-d', '-v', '/var/lib/mysql', '--name', 'dbdata', 'busybox', 'sh', '-c', 'echo rows > /var/lib/mysql/db.txt; echo Data-only container for mysql']);
  assert.equal(mk.code, 0, mk.stderr);
  assert.equal(d.berth(['wait', 'dbdata']).stdout.trim(), '0');
  const backup = d.berth(['run', '--rm', '--volumes-from', 'dbdata', '-v', `${work}:/backup`, 'busybox', 'tar', 'czf', '/backup/backup.tgz', '/var/lib/mysql']);
  assert.equal(backup.code, 0, backup.stderr);
  const listing = spawnSync('tar', ['tzf', path.join(work, 'backup.tgz')], { encoding: 'utf8' }).stdout;
  assert.match(listing, /var\/lib\/mysql\/db\.txt/);
  const restore = d.berth(['run', '--rm', '-v', 'restored:/var/lib/mysql', '-v', `${work}:/backup`, 'busybox', 'sh', '-c', 'cd / && tar xzf /backup/backup.tgz && cat /var/lib/mysql/db.txt']);
  assert.equal(restore.stdout, 'rows\n', restore.stderr);
  // rm -v takes the anonymous volume with it; the named one stays.
  const vol = (await d.api('GET', '/containers/dbdata/json')).body.Mounts[0].Name;
  assert.equal(d.berth(['rm', '-v', 'dbdata']).code, 0);
  assert.equal((await d.api('GET', `/volumes/${vol}`)).status, 404);
  assert.equal((await d.api('GET', '/volumes/restored')).status, 200);
  assert.equal((await d.api('DELETE', '/volumes/restored')).status, 204);
});

test('a volume in use cannot be removed; a new volume is filled from the image', async () => {
  d.berth(['run', '-d', '--name', 'holder', '-v', 'filled:/etc', 'busybox', 'sleep', '1000']);
  const v = await d.api('DELETE', '/volumes/filled');
  assert.equal(v.status, 409);
  assert.match(v.body.message, /volume is in use/);
  const passwd = d.berth(['run', '--rm', '-v', 'filled:/data', 'busybox', 'cat', '/data/passwd']);
  assert.match(passwd.stdout, /^root:x:0:0:/);
  d.berth(['rm', '-f', 'holder']);
});

test('seed commit: touch foo, commit, run the new image', async () => {
  assert.equal(d.berth(['run', '--name', 'build_test', 'busybox', 'touch', '/foo']).code, 0);
  const diff = await d.api('GET', '/containers/build_test/changes');
  assert.deepEqual(diff.body, [{ Path: '/foo', Kind: 1 }]);
  const commit = d.berth(['commit', 'build_test', 'ubuntu_with_foo']);
  assert.equal(commit.code, 0, commit.stderr);
  assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const ls = d.berth(['run', '--rm', 'ubuntu_with_foo', 'ls', '-al', 'foo']);
  assert.match(ls.stdout, /^-rw-r--r--\s+1 root\s+root\s+0 .* foo\n$/, ls.stderr);
  d.berth(['rm', 'build_test']);
});

test('docker cp both ways and docker stats through the docker CLI', { skip: !hasDocker && 'docker CLI not installed' }, async () => {
  d.berth(['run', '-d', '--name', 'cpbox', 'busybox', 'sleep', '1000']);
  await fs.writeFile(path.join(work, 'in.txt'), 'copied in\n');
  assert.equal(docker(['cp', path.join(work, 'in.txt'), 'cpbox:/tmp/in.txt']).status, 0);
  assert.equal(d.berth(['exec', 'cpbox', 'cat', '/tmp/in.txt']).stdout, 'copied in\n');
  const out = path.join(work, 'out');
  assert.equal(docker(['cp', 'cpbox:/etc/passwd', out]).status, 0);
  assert.match(await fs.readFile(out, 'utf8'), /^root:/);
  const stats = docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'cpbox']);
  assert.equal(stats.stdout.trim(), 'cpbox 1', stats.stderr);
  d.berth(['rm', '-f', 'cpbox']);
});
