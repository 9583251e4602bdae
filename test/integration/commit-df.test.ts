import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// commit/diff without the runtime's mount targets, export of a running
// container, system df figures and system prune -a --volumes.
let d: TestDaemon;
let work: string;
before(async () => {
  d = await startTestDaemon();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-cdf-'));
});
after(async () => {
  await d?.cleanup();
  await fs.rm(work, { recursive: true, force: true });
});

/** Entry names of the top layer of `image`, read from `berth save`. */
async function topLayerEntries(image: string): Promise<string[]> {
  const out = path.join(work, `${image}.tar`);
  const dir = path.join(work, `${image}-x`);
  assert.equal(d.berth(['save', '-o', out, image]).code, 0);
  await fs.mkdir(dir);
  spawnSync('tar', ['-C', dir, '-xf', out]);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
  const layers: string[] = manifest[0].Layers;
  const r = spawnSync('tar', ['-tf', path.join(dir, layers[layers.length - 1])], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('commit and diff leave out the mount targets the runtime made; -c applies changes', async () => {
  const host = path.join(work, 'bindsrc');
  await fs.mkdir(host);
  const r = d.berth(['run', '--name', 'ph', '-v', '/vol/anon', '-v', `${host}:/a/b/c`, '--tmpfs', '/scratch', '-v', 'named:/srv/data',
    'busybox', 'sh', '-c', 'touch /foo && echo extra >> /etc/passwd && echo v > /vol/anon/in-volume']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(d.berth(['diff', 'ph']).stdout, 'C /etc\nC /etc/passwd\nA /foo\n');
  const c = d.berth(['commit', '-c', 'ENV MODE=committed', '-c', 'CMD ["cat", "/etc/passwd"]', '-m', 'with foo', 'ph', 'ph_img']);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(await topLayerEntries('ph_img'), ['etc/', 'etc/passwd', 'foo']);
  const run = d.berth(['run', '--rm', 'ph_img']);
  assert.match(run.stdout, /extra\n$/);
  assert.equal(d.berth(['run', '--rm', 'ph_img', 'sh', '-c', 'echo $MODE; ls -d /vol /a /scratch /srv 2>&1 | wc -l']).stdout, 'committed\n4\n');
  assert.equal(d.berth(['inspect', '-f', '{{.Comment}}', 'ph_img']).stdout.trim(), 'with foo');
  d.berth(['rm', '-v', 'ph']);
  d.berth(['rmi', 'ph_img']);
  d.berth(['volume', 'rm', 'named']);
});

test('commit pauses a running container by default, not with --pause=false', async () => {
  assert.equal(d.berth(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'while :; do date >> /tick; sleep 0.1; done']).code, 0);
  // The image must hold a tick: commit only once the loop has written one (run -d answers before it runs).
  // The loop appends, so a pause never catches /tick truncated and empty, and no file vanishes under
  // commit --pause=false's walk (which still fails on one: a known defect).
  for (let i = 0; i < 50 && d.berth(['exec', 'live', 'test', '-s', '/tick']).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const since = Math.floor(Date.now() / 1000) - 1;
  assert.equal(d.berth(['commit', 'live', 'live_img']).code, 0);
  assert.equal(d.berth(['commit', '--pause=false', 'live', 'live_img2']).code, 0);
  const until = Math.floor(Date.now() / 1000) + 1;
  const ev = d.berth(['events', '--since', String(since), '--until', String(until), '--filter', 'container=live', '--format', '{{.Action}}']).stdout.split('\n').filter((a) => ['pause', 'unpause', 'commit'].includes(a));
  assert.deepEqual(ev, ['pause', 'commit', 'unpause', 'commit']);
  assert.equal(d.berth(['inspect', '-f', '{{.State.Status}}', 'live']).stdout.trim(), 'running');
  assert.equal(d.berth(['run', '--rm', 'live_img', 'sh', '-c', 'test -s /tick && echo ok']).stdout, 'ok\n');
  d.berth(['rm', '-f', 'live']);
  d.berth(['rmi', 'live_img', 'live_img2']);
});

test('export of a running container holds the image and what the container wrote', async () => {
  assert.equal(d.berth(['run', '-d', '--name', 'exp', 'busybox', 'sh', '-c', 'echo written > /made-here && sleep 1000']).code, 0);
  await new Promise((r) => setTimeout(r, 500));
  const out = path.join(work, 'exp.tar');
  const r = d.berth(['export', '-o', out, 'exp']);
  assert.equal(r.code, 0, r.stderr);
  const names = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(names.includes('made-here') || names.includes('./made-here'), names.slice(0, 20).join(','));
  assert.ok(names.some((n) => /^(\.\/)?bin\/busybox$/.test(n)));
  const content = spawnSync('tar', ['-xOf', out, names.find((n) => n.endsWith('made-here'))!], { encoding: 'utf8' }).stdout;
  assert.equal(content, 'written\n');
  assert.equal(d.berth(['inspect', '-f', '{{.State.Running}}', 'exp']).stdout.trim(), 'true');
  d.berth(['rm', '-f', 'exp']);
});

test('system df reports layer, container and volume sizes', async () => {
  // Counts below assume only this test's containers: drop what an earlier failed test may have left.
  const left = d.berth(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  if (left.length) d.berth(['rm', '-f', '-v', ...left]);
  assert.equal(d.berth(['run', '-d', '--name', 'dfrun', '-v', 'dfvol:/data', 'busybox', 'sh', '-c',
    'head -c 1048576 /dev/zero > /big && head -c 204800 /dev/zero > /data/v && sleep 1000']).code, 0);
  assert.equal(d.berth(['run', '--name', 'dfstopped', 'busybox', 'sh', '-c', 'head -c 4096 /dev/zero > /small']).code, 0);
  await new Promise((r) => setTimeout(r, 500));
  const df = (await d.api('GET', '/system/df')).body;
  const byName = (n: string) => df.Containers.find((c: any) => c.Names[0] === `/${n}`);
  assert.equal(byName('dfrun').SizeRw, 1048576);
  assert.equal(byName('dfstopped').SizeRw, 4096);
  const vol = df.Volumes.find((v: any) => v.Name === 'dfvol');
  assert.deepEqual(vol.UsageData, { Size: 204800, RefCount: 1 });
  const busybox = df.Images.find((i: any) => i.RepoTags.includes('busybox:latest'));
  assert.ok(df.LayersSize >= busybox.Size && busybox.Size > 0);
  assert.equal(busybox.Containers, 2);
  const only = (await d.api('GET', '/system/df?type=volume')).body;
  assert.deepEqual(Object.keys(only), ['Volumes']);

  const cli = d.berth(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}']);
  const lines = cli.stdout.split('\n');
  assert.equal(lines[1], 'Containers|2|1|1.053MB|4.096kB (0%)', cli.stdout);
  assert.equal(lines[2], 'Local Volumes|1|1|204.8kB|0B (0%)', cli.stdout);
  assert.match(d.berth(['system', 'df', '-v']).stdout, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\ndfvol\s+1\s+205kB\n/);
  d.berth(['rm', '-f', 'dfrun', 'dfstopped']);
  d.berth(['volume', 'rm', 'dfvol']);
});

test('system prune -a --volumes removes exactly the unused objects', async () => {
  assert.equal(d.berth(['run', '-d', '--name', 'keep', '-v', 'keepvol:/k', 'busybox', 'sleep', '1000']).code, 0);
  assert.equal(d.berth(['run', '--name', 'gone', '-v', '/anon', 'busybox', 'true']).code, 0);
  const anon = (await d.api('GET', '/containers/gone/json')).body.Mounts[0].Name;
  assert.equal(d.berth(['commit', 'gone', 'unused_img']).code, 0);
  assert.equal(d.berth(['volume', 'create', 'named_unused']).code, 0);
  assert.equal(d.berth(['network', 'create', 'prune_net']).code, 0);
  const r = d.berth(['system', 'prune', '-a', '--volumes', '-f']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.match(r.stdout, /Deleted Networks:\nprune_net\n/);
  assert.match(r.stdout, new RegExp(`Deleted Volumes:\\n${anon}\\n`));
  assert.match(r.stdout, /untagged: unused_img:latest/);
  // Kept: the running container, its image and volume, the named volume nobody uses (Docker keeps named ones).
  assert.equal((await d.api('GET', '/containers/keep/json')).status, 200);
  assert.equal((await d.api('GET', '/containers/gone/json')).status, 404);
  assert.equal((await d.api('GET', '/images/busybox/json')).status, 200);
  assert.equal((await d.api('GET', '/images/unused_img/json')).status, 404);
  assert.equal((await d.api('GET', '/volumes/keepvol')).status, 200);
  assert.equal((await d.api('GET', '/volumes/named_unused')).status, 200);
  assert.equal((await d.api('GET', `/volumes/${anon}`)).status, 404);
  assert.equal((await d.api('GET', '/networks/prune_net')).status, 404);
  assert.equal((await d.api('GET', '/networks/bridge')).status, 200);
  d.berth(['rm', '-f', '-v', 'keep']);
  d.berth(['volume', 'rm', 'keepvol', 'named_unused']);
});

test('a committed layer is unpacked as it is stored: deletions, opaque dirs and files show in the new image, and commit chains', async () => {
  // /etc/group deleted (a whiteout), /opt replaced wholesale (an opaque dir), a file and a symlink added.
  assert.equal(d.berth(['run', '--name', 'wh1', 'busybox', 'sh', '-c',
    'mkdir -p /opt/old && touch /opt/old/x']).code, 0);
  assert.equal(d.berth(['commit', 'wh1', 'whbase']).code, 0);
  const r = d.berth(['run', '--name', 'wh2', 'whbase', 'sh', '-c',
    'rm /etc/group && rm -rf /opt && mkdir -p /opt/new && echo data > /opt/new/f && ln -s /opt/new/f /link']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(d.berth(['commit', 'wh2', 'whtop']).code, 0);
  const seen = d.berth(['run', '--rm', 'whtop', 'sh', '-c', 'ls /etc/group 2>&1; ls -R /opt; cat /link']);
  assert.equal(seen.code, 0, seen.stderr);
  assert.match(seen.stdout, /\/etc\/group: No such file or directory/);
  assert.doesNotMatch(seen.stdout, /old/);
  assert.match(seen.stdout, /\/opt\/new:\nf\n/);
  assert.match(seen.stdout, /data\n$/);
  // The same image saved and loaded elsewhere gives the same files: the stored blob matches the snapshot.
  const entries = await topLayerEntries('whtop');
  assert.ok(entries.includes('etc/.wh.group'), entries.join(' '));
  assert.ok(entries.includes('opt/new/f'), entries.join(' '));
  d.berth(['rm', '-f', 'wh1', 'wh2']);
});

test('ps -s and inspect -s show the writable layer and the virtual size', async () => {
  assert.equal(d.berth(['run', '--name', 'sized', 'busybox', 'sh', '-c', 'head -c 1048576 /dev/zero > /one-mib']).code, 0);
  const ps = d.berth(['ps', '-a', '-s', '--filter', 'name=sized', '--format', '{{.Size}}']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^1\.05MB \(virtual \d+(\.\d+)?MB\)\n$/);
  const api = await d.api('GET', '/containers/sized/json?size=1');
  assert.ok(api.body.SizeRw >= 1048576 && api.body.SizeRw < 1100000, String(api.body.SizeRw));
  assert.ok(api.body.SizeRootFs > api.body.SizeRw);
  const plain = await d.api('GET', '/containers/sized/json');
  assert.equal(plain.body.SizeRw, undefined);
  d.berth(['rm', 'sized']);
});
