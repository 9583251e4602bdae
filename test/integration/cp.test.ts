import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berthBin, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// `berth cp` both ways through the archive API, against a real daemon.
let d: TestDaemon;
let work: string;
before(async () => {
  d = await startTestDaemon();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-cp-'));
  const r = d.berth(['run', '-d', '--name', 'cpbox', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await d?.cleanup();
  await fs.rm(work, { recursive: true, force: true });
});

/** Every entry under `root`: type, mode, mtime (seconds), link target or content hash, inode group for hard links. */
async function listing(root: string, opts: { owners?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = async (rel: string) => {
    const abs = path.join(root, rel);
    const st = await fs.lstat(abs);
    const own = opts.owners ? ` ${st.uid}:${st.gid}` : '';
    const head = `${JSON.stringify(rel || '.')} ${(st.mode & 0o7777).toString(8)} ${Math.floor(st.mtimeMs / 1000)}${own}`;
    if (st.isDirectory()) {
      out.push(`${head} dir`);
      for (const c of (await fs.readdir(abs)).sort()) await walk(rel ? `${rel}/${c}` : c);
    } else if (st.isSymbolicLink()) {
      out.push(`${head} -> ${await fs.readlink(abs)}`);
    } else {
      const sum = createHash('sha256').update(await fs.readFile(abs)).digest('hex');
      let link = '';
      if (st.nlink > 1) {
        if (!inodes.has(st.ino)) inodes.set(st.ino, rel);
        link = ` linkgroup=${inodes.get(st.ino)}`;
      }
      out.push(`${head} ${sum}${link}`);
    }
  };
  await walk('');
  return out;
}

async function oddTree(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'sub dir/deeper'), { recursive: true });
  await fs.writeFile(path.join(dir, 'plain.txt'), 'hello\n');
  await fs.writeFile(path.join(dir, 'with space.txt'), 'space\n');
  await fs.writeFile(path.join(dir, 'new\nline'), 'newline\n');
  await fs.writeFile(path.join(dir, 'ünïcødé-日本.bin'), Buffer.from([0, 1, 2, 255, 254]));
  await fs.writeFile(path.join(dir, 'sub dir/deeper/big.bin'), Buffer.alloc(300_000, 7));
  await fs.writeFile(path.join(dir, 'exec.sh'), '#!/bin/sh\n', { mode: 0o751 });
  await fs.chmod(path.join(dir, 'exec.sh'), 0o751);
  await fs.link(path.join(dir, 'plain.txt'), path.join(dir, 'sub dir/hard link'));
  await fs.symlink('../plain.txt', path.join(dir, 'sub dir/rel-link'));
  await fs.symlink('/etc/passwd', path.join(dir, 'abs-link'));
  await fs.symlink('nowhere', path.join(dir, 'dangling'));
  await fs.chown(path.join(dir, 'with space.txt'), 1234, 5678);
  // Fixed, distinct times so a copy that does not carry them shows up.
  let t = 1_600_000_000;
  for (const p of ['plain.txt', 'with space.txt', 'new\nline', 'ünïcødé-日本.bin', 'sub dir/deeper/big.bin', 'exec.sh', 'sub dir/deeper', 'sub dir', '.']) {
    await fs.utimes(path.join(dir, p), t, t);
    t += 1000;
  }
  for (const l of ['sub dir/rel-link', 'abs-link', 'dangling']) await fs.lutimes(path.join(dir, l), t, t);
}

test('cp -a of a tree with symlinks, hard links and odd names round-trips bit for bit', async () => {
  const src = path.join(work, 'src');
  await fs.mkdir(src);
  await oddTree(src);
  const cpIn = d.berth(['cp', '-a', src, 'cpbox:/tree']);
  assert.equal(cpIn.code, 0, cpIn.stderr);
  // Inside the container the hard link is still one inode and the link targets are intact.
  const inside = d.berth(['exec', 'cpbox', 'sh', '-c', 'stat -c "%i %h" /tree/plain.txt "/tree/sub dir/hard link"; readlink /tree/abs-link; cat "/tree/sub dir/rel-link"']);
  const [a, b, abs, rel] = inside.stdout.split('\n');
  assert.equal(a, b, inside.stdout);
  assert.match(a, / 2$/);
  assert.equal(abs, '/etc/passwd');
  assert.equal(rel, 'hello');

  const back = path.join(work, 'back');
  const cpOut = d.berth(['cp', '-a', 'cpbox:/tree', back]);
  assert.equal(cpOut.code, 0, cpOut.stderr);
  assert.deepEqual(await listing(back, { owners: true }), await listing(src, { owners: true }));
});

test('cp into an existing directory, of a directory\'s content (/.), and of single files both ways', async () => {
  const dst = path.join(work, 'into');
  await fs.mkdir(dst);
  assert.equal(d.berth(['cp', 'cpbox:/etc/passwd', dst]).code, 0);
  assert.match(await fs.readFile(path.join(dst, 'passwd'), 'utf8'), /^root:/);
  // Renamed on the way out: the destination does not exist, its parent does.
  assert.equal(d.berth(['cp', 'cpbox:/etc/group', path.join(dst, 'renamed')]).code, 0);
  assert.match(await fs.readFile(path.join(dst, 'renamed'), 'utf8'), /^root:/);
  // `/.` copies the content, not the directory.
  d.berth(['exec', 'cpbox', 'sh', '-c', 'mkdir -p /content && echo x > /content/a && echo y > /content/b']);
  const c2 = path.join(work, 'content-out');
  await fs.mkdir(c2);
  assert.equal(d.berth(['cp', 'cpbox:/content/.', c2]).code, 0);
  assert.deepEqual((await fs.readdir(c2)).sort(), ['a', 'b']);
  // A host file to a new name in the container.
  await fs.writeFile(path.join(work, 'one.txt'), 'one\n');
  assert.equal(d.berth(['cp', path.join(work, 'one.txt'), 'cpbox:/tmp/uno.txt']).code, 0);
  assert.equal(d.berth(['exec', 'cpbox', 'cat', '/tmp/uno.txt']).stdout, 'one\n');
});

test('cp - streams tar in and out; -L follows a symlink source', async () => {
  const tarOut = spawnSync(process.execPath, [berthBin, 'cp', 'cpbox:/etc', '-'], {
    env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: '' }, maxBuffer: 1 << 26,
  });
  assert.equal(tarOut.status, 0, String(tarOut.stderr));
  const names = spawnSync('tar', ['tf', '-'], { input: tarOut.stdout, encoding: 'utf8' }).stdout.split('\n');
  assert.ok(names.includes('etc/passwd'), names.join(','));
  // The same tar fed back with `-` into another directory.
  d.berth(['exec', 'cpbox', 'mkdir', '/restore']);
  const tarIn = spawnSync(process.execPath, [berthBin, 'cp', '-', 'cpbox:/restore'], {
    env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: '' }, input: tarOut.stdout,
  });
  assert.equal(tarIn.status, 0, String(tarIn.stderr));
  assert.match(d.berth(['exec', 'cpbox', 'cat', '/restore/etc/passwd']).stdout, /^root:/);
  // `-` needs a directory destination.
  const notDir = d.berth(['cp', '-', 'cpbox:/etc/passwd'], { input: '' });
  assert.equal(notDir.code, 1);
  assert.match(notDir.stderr, /destination "cpbox:\/etc\/passwd" must be a directory/);

  d.berth(['exec', 'cpbox', 'ln', '-s', '/etc/passwd', '/tmp/pw-link']);
  const plain = path.join(work, 'link-plain');
  const followed = path.join(work, 'link-followed');
  assert.equal(d.berth(['cp', 'cpbox:/tmp/pw-link', plain]).code, 0);
  assert.equal(d.berth(['cp', '-L', 'cpbox:/tmp/pw-link', followed]).code, 0);
  assert.equal(await fs.readlink(plain), '/etc/passwd');
  assert.match(await fs.readFile(followed, 'utf8'), /^root:/);
});

test('cp from and into a stopped container; missing paths give Docker\'s errors', async () => {
  const created = d.berth(['create', '--name', 'cpstopped', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  await fs.writeFile(path.join(work, 'to-stopped'), 'still works\n');
  const into = d.berth(['cp', path.join(work, 'to-stopped'), 'cpstopped:/root/']);
  assert.equal(into.code, 0, into.stderr);
  const out = path.join(work, 'from-stopped');
  const r = d.berth(['cp', 'cpstopped:/root/to-stopped', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await fs.readFile(out, 'utf8'), 'still works\n');

  const missing = d.berth(['cp', 'cpstopped:/x', path.join(work, 'nothing')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error response from daemon: Could not find the file /x in container cpstopped\n');
  const noCtr = d.berth(['cp', 'nosuchctr:/x', work]);
  assert.equal(noCtr.code, 1);
  assert.match(noCtr.stderr, /No such container: nosuchctr/);
  const both = d.berth(['cp', 'a:/x', 'b:/y']);
  assert.match(both.stderr, /copying between containers is not supported/);
  d.berth(['rm', 'cpstopped']);
});

test('a hostile symlink in the container does not let cp write outside it', async () => {
  const canary = path.join(work, 'canary-dir');
  await fs.mkdir(canary);
  // /evil points at the host-looking path of our canary and at /, both must resolve inside the container.
  d.berth(['exec', 'cpbox', 'sh', '-c', `ln -s / /evil && mkdir -p /trap ${canary} /tmp && ln -s ${canary} /trap/out && ln -s ../../../../../../.. /trap/up`]);
  await fs.writeFile(path.join(work, 'payload'), 'pwned\n');
  assert.equal(d.berth(['cp', path.join(work, 'payload'), `cpbox:/trap/out/payload`]).code, 0);
  assert.equal(d.berth(['cp', path.join(work, 'payload'), 'cpbox:/trap/up/tmp/payload-up']).code, 0);
  assert.equal(d.berth(['cp', path.join(work, 'payload'), 'cpbox:/evil/tmp/payload-evil']).code, 0);
  // Nothing reached the host; everything landed inside the container's own tree.
  await assert.rejects(fs.stat(path.join(canary, 'payload')));
  await assert.rejects(fs.stat('/tmp/payload-up'));
  await assert.rejects(fs.stat('/tmp/payload-evil'));
  assert.equal(d.berth(['exec', 'cpbox', 'cat', `${canary}/payload`, '/tmp/payload-up', '/tmp/payload-evil']).stdout, 'pwned\n'.repeat(3));

  // A tar from the container holding a symlink then a file "through" it must not escape the host destination.
  const evilTar = path.join(work, 'evil.tar');
  const stage = path.join(work, 'stage');
  await fs.mkdir(path.join(stage, 'x'), { recursive: true });
  await fs.symlink(canary, path.join(stage, 'x', 'esc'));
  spawnSync('tar', ['-C', stage, '-cf', evilTar, 'x/esc']);
  await fs.rm(path.join(stage, 'x', 'esc'));
  await fs.mkdir(path.join(stage, 'x', 'esc'));
  await fs.writeFile(path.join(stage, 'x', 'esc', 'escaped'), 'bad\n');
  spawnSync('tar', ['-C', stage, '-rf', evilTar, 'x/esc/escaped']);
  d.berth(['exec', 'cpbox', 'mkdir', '/evil-src']);
  const put = spawnSync(process.execPath, [berthBin, 'cp', '-', 'cpbox:/evil-src'], {
    env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: '' }, input: await fs.readFile(evilTar),
  });
  // The daemon refuses or contains it; either way nothing lands in the canary on the host.
  void put;
  const dest = path.join(work, 'evil-out');
  await fs.mkdir(dest);
  d.berth(['cp', 'cpbox:/evil-src/x', dest]);
  await assert.rejects(fs.stat(path.join(canary, 'escaped')));
});
