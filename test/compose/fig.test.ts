import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { hostPort, httpGet, projectObjects, removeEverything, seedFigYml as figYml, tempProject, type TempProject } from './project.js';

// The seed's FIG section with local images: busybox httpd as `web`, a busybox
// stand-in as `db`, linked as `mysql`; every seed command through `berth compose`.

let d: TestDaemon;
let p: TempProject;
before(async () => {
  d = await startTestDaemon();
  p = await tempProject(d, 'figapp', { 'fig.yml': figYml });
});
after(async () => {
  if (d) await removeEverything(d).catch(() => undefined);
  await d?.cleanup();
  await p?.remove();
});

/** `compose ps` rows as name → [command, state, ports]. */
function psRows(out: string): Map<string, string> {
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0], /^\s*Name\s+Command\s+State\s+Ports\s*$/);
  if (lines.length > 1) assert.match(lines[1], /^-+$/);
  return new Map(lines.slice(2).map((l) => [l.split(/\s+/)[0], l]));
}

test('fig up -d (bin/fig, as the seed types it) creates db before web, with fig names', () => {
  const r = p.fig(['up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  const order = [...r.stderr.matchAll(/Creating (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(order, ['figapp_db_1', 'figapp_web_1'], r.stderr);
});

test('ps shows both running, with the published and exposed ports', () => {
  const r = p.compose(['ps']);
  assert.equal(r.code, 0, r.stderr);
  const rows = psRows(r.stdout);
  assert.deepEqual([...rows.keys()].sort(), ['figapp_db_1', 'figapp_web_1']);
  assert.match(rows.get('figapp_web_1')!, /httpd -f -v -p 80 -h \/etc\s+Up\s+0\.0\.0\.0:\d+->80\/tcp/);
  assert.match(rows.get('figapp_db_1')!, /\s+Up\s+3306\/tcp/);
});

test('web serves on its published port and reaches db by its link alias', async () => {
  const port = hostPort(p.compose(['port', 'web', '80']).stdout);
  const res = await httpGet(port, '/passwd');
  assert.equal(res.status, 200);
  assert.match(res.body, /^root:x:0:0:/);
  const env = p.compose(['exec', '-T', 'web', 'env']);
  assert.equal(env.code, 0, env.stderr);
  assert.match(env.stdout, /^MYSQL_PORT_3306_TCP=tcp:\/\/\d+\.\d+\.\d+\.\d+:3306$/m);
  const ping = p.compose(['exec', '-T', 'web', 'ping', '-c', '1', 'mysql']);
  assert.match(ping.stdout, /1 packets received/, ping.stderr);
});

test('stop web stops only web; start web brings it back', () => {
  let r = p.compose(['stop', '-t', '1', 'web']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Stopping figapp_web_1/);
  let rows = psRows(p.compose(['ps']).stdout);
  assert.match(rows.get('figapp_web_1')!, /\s+Exit \d+\s*/);
  assert.match(rows.get('figapp_db_1')!, /\s+Up\s+/);
  r = p.compose(['start', 'web']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Starting web/);
  rows = psRows(p.compose(['ps']).stdout);
  assert.match(rows.get('figapp_web_1')!, /\s+Up\s+0\.0\.0\.0:\d+->80\/tcp/);
});

test('scale web=3 adds web_2 and web_3, each serving on its own port; logs web shows all three', async () => {
  const before = (await d.api('GET', '/containers/figapp_web_1/json')).body.Id;
  const r = p.compose(['scale', 'web=3']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...r.stderr.matchAll(/Creating (\S+)/g)].map((m) => m[1]).sort(), ['figapp_web_2', 'figapp_web_3']);
  assert.equal((await d.api('GET', '/containers/figapp_web_1/json')).body.Id, before, 'web_1 left alone');
  const rows = psRows(p.compose(['ps']).stdout);
  assert.deepEqual([...rows.keys()].sort(), ['figapp_db_1', 'figapp_web_1', 'figapp_web_2', 'figapp_web_3']);
  for (const i of [1, 2, 3]) {
    assert.match(rows.get(`figapp_web_${i}`)!, /\s+Up\s+0\.0\.0\.0:\d+->80\/tcp/);
    const port = hostPort(p.compose(['port', '--index', String(i), 'web', '80']).stdout);
    assert.equal((await httpGet(port, '/hostname')).status, 200);
  }
  const logs = p.compose(['logs', 'web']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^Attaching to figapp_web_3, figapp_web_2, figapp_web_1$/m);
  for (const i of [1, 2, 3]) assert.match(logs.stdout, new RegExp(`^web_${i}\\s+\\| .*response:200$`, 'm'));
  assert.doesNotMatch(logs.stdout, /db ready/);
  assert.match(p.compose(['logs', 'db']).stdout, /^db_1\s+\| db ready$/m);
});

test('stop then rm -f removes every container; down removes nothing more and leaves nothing', async () => {
  let r = p.compose(['stop', '-t', '1']);
  assert.equal(r.code, 0, r.stderr);
  r = p.compose(['rm', '-f']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal([...r.stderr.matchAll(/Removing (\S+)/g)].length, 4, r.stderr);
  assert.deepEqual((await projectObjects(d, 'figapp')).containers, []);
  r = p.compose(['up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await projectObjects(d, 'figapp')).containers.length, 2);
  r = p.compose(['down', '-t', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await projectObjects(d, 'figapp'), { containers: [], networks: [], volumes: [] });
  assert.deepEqual(psRows(p.compose(['ps', '-a']).stdout).size, 0);
});
