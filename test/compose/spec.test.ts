import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { hostPort, httpGet, projectObjects, removeEverything, tempProject, type TempProject } from './project.js';

// A compose-spec project: a named volume shared by two services, a user
// network, an anonymous volume, a healthcheck-gated depends_on and a port
// published on 127.0.0.1.
const composeYaml = (greeting: string) => `services:
  db:
    image: busybox
    command: sh -c 'echo ${greeting} > /data/greeting; sleep 2; touch /tmp/ready; exec sleep 1000'
    stop_grace_period: 1s
    volumes:
      - dbdata:/data
      - /anon
    networks: [back]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 20
  web:
    image: busybox
    command: httpd -f -p 8080 -h /data
    stop_signal: SIGKILL
    volumes:
      - dbdata:/data:ro
    ports:
      - "127.0.0.1::8080"
    networks: [back]
    depends_on:
      db:
        condition: service_healthy
volumes:
  dbdata:
networks:
  back:
`;

let d: TestDaemon;
let p: TempProject;
before(async () => {
  d = await startTestDaemon();
  p = await tempProject(d, 'specapp', { 'compose.yaml': composeYaml('hello') });
});
after(async () => {
  if (d) await removeEverything(d).catch(() => undefined);
  await d?.cleanup();
  await p?.remove();
});

const ids = async () => {
  const out: Record<string, string> = {};
  for (const n of ['specapp-db-1', 'specapp-web-1']) out[n] = (await d.api('GET', `/containers/${n}/json`)).body?.Id;
  return out;
};

test('up -d creates network and volume, waits for db to be healthy, then starts web', async () => {
  const r = p.compose(['up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.ok(at(/Network specapp_back\s+Created/) >= 0, r.stderr);
  assert.ok(at(/Volume "specapp_dbdata"\s+Created/) >= 0, r.stderr);
  const healthy = at(/Container specapp-db-1\s+Healthy/);
  assert.ok(healthy >= 0, r.stderr);
  assert.ok(at(/Container specapp-web-1\s+Started/) > healthy, `web started after db was healthy:\n${r.stderr}`);
  const db = (await d.api('GET', '/containers/specapp-db-1/json')).body;
  assert.equal(db.State.Health.Status, 'healthy');
  assert.deepEqual(await projectObjects(d, 'specapp'), {
    containers: ['specapp-db-1', 'specapp-web-1'], networks: ['specapp_back'], volumes: ['specapp_dbdata'],
  });
});

test('ps lists both services; the published port serves the named volume from the host', async () => {
  const ps = p.compose(['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/m);
  assert.match(ps.stdout, /^specapp-db-1\s+busybox\s+.*\bdb\s+.*Up .*\(healthy\)/m);
  assert.match(ps.stdout, /^specapp-web-1\s+busybox\s+.*\bweb\s+.*Up .*127\.0\.0\.1:\d+->8080\/tcp$/m);
  const port = p.compose(['port', 'web', '8080']);
  assert.match(port.stdout, /^127\.0\.0\.1:\d+$/m, port.stderr);
  const res = await httpGet(hostPort(port.stdout), '/greeting');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'hello\n');
});

test('services reach each other by service name on the user network', () => {
  const ping = p.compose(['exec', '-T', 'web', 'ping', '-c', '1', 'db']);
  assert.match(ping.stdout, /1 packets received/, ping.stderr);
});

test('a second up -d leaves every container as it was', async () => {
  const first = await ids();
  const r = p.compose(['up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Created|Recreated/);
  assert.deepEqual(await ids(), first);
});

test('a changed service is recreated keeping its anonymous volume data; the unchanged one is kept', async () => {
  const first = await ids();
  const w = p.compose(['exec', '-T', 'db', 'sh', '-c', 'echo kept > /anon/mark']);
  assert.equal(w.code, 0, w.stderr);
  await p.write('compose.yaml', composeYaml('changed'));
  const r = p.compose(['up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Container specapp-db-1\s+Recreated/);
  const now = await ids();
  assert.notEqual(now['specapp-db-1'], first['specapp-db-1']);
  assert.equal(now['specapp-web-1'], first['specapp-web-1']);
  const mark = p.compose(['exec', '-T', 'db', 'cat', '/anon/mark']);
  assert.equal(mark.stdout, 'kept\n', mark.stderr);
  const res = await httpGet(hostPort(p.compose(['port', 'web', '8080']).stdout), '/greeting');
  assert.equal(res.body, 'changed\n');
  // The old container is gone, not left renamed beside the new one.
  assert.equal(((await d.api('GET', '/containers/json?all=1')).body as unknown[]).length, 2);
});

test('down -v leaves no container, network or volume behind', async () => {
  const r = p.compose(['down', '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await projectObjects(d, 'specapp'), { containers: [], networks: [], volumes: [] });
  // Anonymous volumes carry no project label: there must be none at all.
  assert.deepEqual((await d.api('GET', '/volumes')).body.Volumes ?? [], []);
  const nets = ((await d.api('GET', '/networks')).body as { Name: string }[]).map((n) => n.Name).sort();
  assert.deepEqual(nets, ['bridge', 'host', 'none']);
});
