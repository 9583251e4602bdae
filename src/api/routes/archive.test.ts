import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Router } from '../router.js';
import { createApiServer } from '../server.js';
import { registerArchiveRoutes } from './archive.js';
import { NotFound } from '../../common/errors.js';

const run = promisify(execFile);
const dockerCli = '/usr/local/bin/docker';

describe('archive routes with the real docker CLI', { skip: !(await fs.stat(dockerCli).catch(() => false)) && 'no docker CLI' }, () => {
  let tmp: string;
  let root: string;
  let vol: string;
  let sock: string;
  let server: ReturnType<typeof createApiServer>;
  let released = 0;
  const docker = (...args: string[]) => run(dockerCli, ['-H', `unix://${sock}`, ...args], { maxBuffer: 1 << 30, env: { ...process.env, DOCKER_CONFIG: tmp } });

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-archive-api-'));
    root = path.join(tmp, 'rootfs');
    vol = path.join(tmp, 'vol');
    await fs.mkdir(path.join(root, 'etc'), { recursive: true });
    await fs.mkdir(vol);
    await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:33:44::/:/bin/sh\n');
    await fs.writeFile(path.join(root, 'etc/hostname'), 'box\n');
    await fs.mkdir(path.join(root, 'tmp'));
    await fs.symlink('/', path.join(root, 'tmp/evil'));
    sock = path.join(tmp, 'api.sock');
    const r = new Router();
    r.get('/_ping', (c) => { c.res.writeHead(200, { 'Content-Type': 'text/plain' }); c.res.end('OK'); });
    registerArchiveRoutes(r, {
      async rootfsOf(ref) {
        if (ref !== 'box') throw new NotFound(`No such container: ${ref}`);
        return { rootfs: root, mounts: [{ Type: 'volume', Name: 'v', Source: vol, Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }], user: 'web', release: () => { released++; } };
      },
    });
    server = createApiServer(r);
    await new Promise<void>((res) => server.listen(sock, res));
  });
  after(async () => {
    await new Promise((res) => server.close(res));
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('copies a file out and a directory in, into the volume', async () => {
    await docker('cp', 'box:/etc/hostname', path.join(tmp, 'hostname'));
    assert.equal(await fs.readFile(path.join(tmp, 'hostname'), 'utf8'), 'box\n');
    const src = path.join(tmp, 'src');
    await fs.mkdir(path.join(src, 'a b'), { recursive: true });
    await fs.writeFile(path.join(src, 'a b/ünï'), 'x');
    await docker('cp', src, 'box:/data/');
    assert.equal(await fs.readFile(path.join(vol, 'src/a b/ünï'), 'utf8'), 'x');
    await docker('cp', '-a', path.join(src, 'a b/ünï'), 'box:/data/owned');
    const st = await fs.stat(path.join(vol, 'owned'));
    assert.deepEqual([st.uid, st.gid], [33, 44]);
    assert.ok(released >= 4, 'every request released the filesystem');
  });

  it('follows -L, copies a directory\'s content with /., and takes tar streams with -', async () => {
    await fs.mkdir(path.join(root, 'srv/site'), { recursive: true });
    await fs.writeFile(path.join(root, 'srv/site/index.html'), '<h1>hi</h1>');
    await fs.symlink('/srv/site/index.html', path.join(root, 'srv/current'));
    await docker('cp', 'box:/srv/current', path.join(tmp, 'as-link'));
    assert.equal(await fs.readlink(path.join(tmp, 'as-link')), '/srv/site/index.html');
    await docker('cp', '-L', 'box:/srv/current', path.join(tmp, 'followed'));
    assert.equal(await fs.readFile(path.join(tmp, 'followed'), 'utf8'), '<h1>hi</h1>');
    await fs.mkdir(path.join(tmp, 'content'));
    await docker('cp', 'box:/srv/site/.', path.join(tmp, 'content'));
    assert.deepEqual(await fs.readdir(path.join(tmp, 'content')), ['index.html']);
    const { stdout } = await run('sh', ['-c', `printf streamed > ${tmp}/s.txt && tar cf - -C ${tmp} s.txt | ${dockerCli} -H unix://${sock} cp - box:/srv && ${dockerCli} -H unix://${sock} cp box:/srv/s.txt - | tar tvf -`], { env: { ...process.env, DOCKER_CONFIG: tmp } });
    assert.equal(await fs.readFile(path.join(root, 'srv/s.txt'), 'utf8'), 'streamed');
    assert.match(stdout, /s\.txt/);
  });

  it('a hostile symlink in the container cannot send cp outside it', async () => {
    const f = path.join(tmp, 'pwn');
    await fs.writeFile(f, 'x');
    await docker('cp', f, 'box:/tmp/evil/');
    assert.equal(await fs.readFile(path.join(root, 'pwn'), 'utf8'), 'x');
  });

  it('reports missing paths and containers as Docker does', async () => {
    await assert.rejects(docker('cp', 'box:/nope', tmp), /Could not find the file \/nope in container box/);
    await assert.rejects(docker('cp', 'other:/etc', tmp), /No such container: other/);
  });

  it('copies 100 MiB in and out (timed)', async () => {
    const big = path.join(tmp, 'big');
    const data = Buffer.alloc(100 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i * 2654435761 >>> 0, i);
    await fs.writeFile(big, data);
    const want = createHash('sha256').update(data).digest('hex');
    let t = process.hrtime.bigint();
    await docker('cp', big, 'box:/data/big');
    const inMs = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    await docker('cp', 'box:/data/big', path.join(tmp, 'big-out'));
    const outMs = Number(process.hrtime.bigint() - t) / 1e6;
    assert.equal(createHash('sha256').update(await fs.readFile(path.join(tmp, 'big-out'))).digest('hex'), want);
    assert.equal(createHash('sha256').update(await fs.readFile(path.join(vol, 'big'))).digest('hex'), want);
    console.log(`# cp 100 MiB: in ${inMs.toFixed(0)} ms, out ${outMs.toFixed(0)} ms`);
  });
});
