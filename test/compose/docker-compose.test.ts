import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { hostPort, httpGet, projectObjects, removeEverything, seedFigYml as figYml, tempProject, type TempProject } from './project.js';

// docker-compose 1.29 (Debian's) driving projects against berthd, and
// `berth compose` seeing (and acting on) the same projects through labels.

const composeYaml = `services:
  db:
    image: busybox
    command: sh -c 'echo hi > /data/greeting; sleep 1; touch /tmp/ready; exec sleep 1000'
    stop_grace_period: 1s
    volumes: [dbdata:/data, /anon]
    networks: [back]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 20
  web:
    image: busybox
    command: httpd -f -p 8080 -h /data
    stop_signal: SIGKILL
    volumes: [dbdata:/data]
    ports: ["127.0.0.1::8080"]
    networks: [back]
    depends_on:
      db:
        condition: service_healthy
volumes:
  dbdata:
networks:
  back:
`;

const haveDockerCompose = spawnSync('docker-compose', ['version', '--short']).status === 0;
let d: TestDaemon;
let fig: TempProject;
let spec: TempProject;
before(async () => {
  d = await startTestDaemon();
  fig = await tempProject(d, 'dcfig', { 'fig.yml': figYml });
  spec = await tempProject(d, 'dcspec', { 'docker-compose.yml': composeYaml });
});
after(async () => {
  if (d) await removeEverything(d).catch(() => undefined);
  await d?.cleanup();
  await fig?.remove();
  await spec?.remove();
});

const ok = (r: { code: number; stdout: string; stderr: string }) => assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);

test('docker-compose up -d of the seed fig.yml; ps there and in berth compose agree', { skip: !haveDockerCompose && 'no docker-compose' }, () => {
  ok(fig.dockerCompose(['-f', 'fig.yml', 'up', '-d']));
  const theirs = fig.dockerCompose(['-f', 'fig.yml', 'ps']);
  ok(theirs);
  assert.match(theirs.stdout, /^dcfig_db_1\s+.*\s+Up\s+3306\/tcp/m);
  assert.match(theirs.stdout, /^dcfig_web_1\s+httpd -f -v -p 80 -h \/etc\s+Up\s+0\.0\.0\.0:\d+->80\/tcp/m);
  const ours = fig.compose(['ps']);
  ok(ours);
  assert.match(ours.stdout, /^dcfig_db_1\s+.*\s+Up\s+3306\/tcp/m);
  assert.match(ours.stdout, /^dcfig_web_1\s+httpd -f -v -p 80 -h \/etc\s+Up\s+0\.0\.0\.0:\d+->80\/tcp/m);
  // Same table byte for byte, the Command column included (entrypoint + cmd, unquoted).
  assert.equal(ours.stdout, theirs.stdout);
  const env = fig.compose(['exec', '-T', 'web', 'env']);
  assert.match(env.stdout, /^MYSQL_PORT_3306_TCP=tcp:\/\/\d+\.\d+\.\d+\.\d+:3306$/m, env.stderr);
});

test('docker-compose scale web=3, then logs web from all three', { skip: !haveDockerCompose && 'no docker-compose' }, async () => {
  ok(fig.dockerCompose(['-f', 'fig.yml', 'scale', 'web=3']));
  for (const i of [1, 2, 3]) {
    const port = hostPort(fig.dockerCompose(['-f', 'fig.yml', 'port', '--index', String(i), 'web', '80']).stdout);
    assert.equal((await httpGet(port, '/group')).status, 200);
  }
  const logs = fig.dockerCompose(['-f', 'fig.yml', 'logs', '--no-color', 'web']);
  ok(logs);
  for (const i of [1, 2, 3]) assert.match(logs.stdout, new RegExp(`^web_${i}\\s+\\| .*response:200$`, 'm'));
  const ours = fig.compose(['ps', '--services']);
  assert.deepEqual(ours.stdout.trim().split('\n').sort(), ['db', 'web']);
  assert.equal(fig.compose(['ps', '-q', 'web']).stdout.trim().split('\n').length, 3);
});

test('berth compose stop/start act on docker-compose\'s containers; docker-compose down -v leaves nothing', { skip: !haveDockerCompose && 'no docker-compose' }, async () => {
  ok(fig.compose(['stop', '-t', '1', 'db']));
  assert.match(fig.dockerCompose(['-f', 'fig.yml', 'ps']).stdout, /^dcfig_db_1\s+.*\s+Exit \d+/m);
  ok(fig.compose(['start', 'db']));
  assert.match(fig.dockerCompose(['-f', 'fig.yml', 'ps']).stdout, /^dcfig_db_1\s+.*\s+Up\s+/m);
  ok(fig.dockerCompose(['-f', 'fig.yml', 'down', '-v', '-t', '1']));
  assert.deepEqual(await projectObjects(d, 'dcfig'), { containers: [], networks: [], volumes: [] });
});

test('docker-compose up -d of a compose file: user network, named volume, health-gated depends_on, port', { skip: !haveDockerCompose && 'no docker-compose' }, async () => {
  const r = spec.dockerCompose(['up', '-d']);
  ok(r);
  const db = (await d.api('GET', '/containers/dcspec_db_1/json')).body;
  const web = (await d.api('GET', '/containers/dcspec_web_1/json')).body;
  assert.equal(db.State.Health.Status, 'healthy');
  assert.ok(Date.parse(web.State.StartedAt) > Date.parse(db.State.StartedAt) + 900, 'web started once db was healthy');
  assert.deepEqual(Object.keys(web.NetworkSettings.Networks), ['dcspec_back']);
  const port = hostPort(spec.dockerCompose(['port', 'web', '8080']).stdout);
  assert.equal((await httpGet(port, '/greeting')).body, 'hi\n');
  const ping = spec.dockerCompose(['exec', '-T', 'web', 'ping', '-c', '1', 'db']);
  assert.match(ping.stdout, /1 packets received/, ping.stderr);
  const ours = spec.compose(['ps']);
  assert.match(ours.stdout, /^dcspec_db_1\s+busybox\s+.*\bdb\s+.*\(healthy\)/m);
  assert.match(ours.stdout, /^dcspec_web_1\s+busybox\s+.*\bweb\s+.*127\.0\.0\.1:\d+->8080\/tcp$/m);
});

test('each tool\'s up converges on the other\'s project, keeping anonymous data; down -v leaves nothing', { skip: !haveDockerCompose && 'no docker-compose' }, async () => {
  ok(spec.compose(['exec', '-T', 'db', 'sh', '-c', 'echo kept > /anon/mark']));
  ok(spec.compose(['up', '-d']));
  assert.deepEqual((await projectObjects(d, 'dcspec')).containers, ['dcspec-db-1', 'dcspec-web-1']);
  assert.equal(spec.compose(['exec', '-T', 'db', 'cat', '/anon/mark']).stdout, 'kept\n');
  ok(spec.dockerCompose(['up', '-d']));
  assert.equal(spec.dockerCompose(['exec', '-T', 'db', 'cat', '/anon/mark']).stdout, 'kept\n');
  ok(spec.dockerCompose(['down', '-v']));
  assert.deepEqual(await projectObjects(d, 'dcspec'), { containers: [], networks: [], volumes: [] });
  assert.deepEqual(((await d.api('GET', '/networks')).body as { Name: string }[]).map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
});
