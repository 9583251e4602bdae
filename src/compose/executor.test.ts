import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from './load.js';
import { ComposeRunner, type ComposeIO } from './executor.js';
import { logs, ps, run, exec } from './queries.js';
import { FakeEngine } from './testing/fake-engine.js';
import { L } from './container-spec.js';
import { project, seedFig } from './testing/fixtures.js';

function io(): ComposeIO & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', out(t: string) { o.stdout += t; }, err(t: string) { o.stderr += t; }, confirm: async () => false };
  return o;
}

function runner(engine: FakeEngine, dir: string, out = io(), opts: Parameters<typeof loadProject>[0] = {}) {
  return { r: new ComposeRunner(engine, loadProject({ cwd: dir, env: {}, ...opts }), out), out };
}

test('the seed\'s fig session: up -d, stop web, start web, scale web=3, ps, logs web', async () => {
  const dir = project({ 'fig.yml': seedFig }, 'project');
  const engine = new FakeEngine({ images: ['php:5.6-apache', 'postgres'] });

  let { r, out } = runner(engine, dir);
  await r.up({ detach: true });
  assert.equal(out.stderr, 'Creating project_db_1 ... done\nCreating project_web_1 ... done\n');
  // web is created while db starts; it starts only once db has.
  assert.deepEqual(engine.calls, ['create project_db_1', 'create project_web_1', 'start project_db_1', 'start project_web_1']);
  assert.deepEqual(engine.byName('project_web_1')!.body.HostConfig.Links, ['project_db_1:mysql', 'project_db_1:project_db_1', 'project_db_1:db_1']);

  ({ r, out } = runner(engine, dir));
  await r.stop(['web']);
  assert.equal(out.stderr, 'Stopping project_web_1 ... done\n');
  assert.equal(engine.byName('project_web_1')!.state, 'exited');
  assert.equal(engine.byName('project_db_1')!.state, 'running');

  ({ r, out } = runner(engine, dir));
  await r.start(['web']);
  assert.equal(out.stderr, 'Starting web ... done\n');

  ({ r, out } = runner(engine, dir));
  engine.calls.length = 0;
  await r.scale({ web: 3 });
  // Created in number order, then started together.
  assert.deepEqual(engine.calls, ['create project_web_2', 'create project_web_3', 'start project_web_2', 'start project_web_3']);
  assert.match(out.stderr, /Creating project_web_2 \.\.\. done\nCreating project_web_3 \.\.\. done\n$/);

  ({ r, out } = runner(engine, dir));
  await ps(r);
  const lines = out.stdout.split('\n');
  assert.match(lines[0], /^\s+Name\s+Command\s+State\s+Ports\s*$/);
  assert.match(lines[1], /^-+$/);
  assert.deepEqual(lines.slice(2, 6).map((l) => l.split(/\s{2,}/).filter(Boolean)), [
    ['project_db_1', 'Up'], ['project_web_1', 'Up', '0.0.0.0:80->80/tcp'],
    ['project_web_2', 'Up', '0.0.0.0:80->80/tcp'], ['project_web_3', 'Up', '0.0.0.0:80->80/tcp'],
  ]);

  ({ r, out } = runner(engine, dir));
  await r.scale({ web: 2 });
  assert.equal(out.stderr, 'Stopping and removing project_web_3 ... done\n');
  await runner(engine, dir).r.scale({ web: 3 });

  for (const n of [1, 2, 3]) engine.logLines.set(`project_web_${n}`, ['RUN apache']);
  ({ r, out } = runner(engine, dir));
  await logs(r, ['web'], { noColor: true });
  const logOut = out.stdout.split('\n');
  assert.equal(logOut[0], 'Attaching to project_web_3, project_web_2, project_web_1');
  assert.deepEqual(logOut.slice(1).filter(Boolean).sort(), ['web_1  | RUN apache', 'web_2  | RUN apache', 'web_3  | RUN apache']);
});

const spec = `services:
  web:
    image: web
    ports: ["8080:80"]
    volumes: ["/scratch", "data:/data"]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: db
    healthcheck: {test: ["CMD", "true"], interval: 1s}
volumes:
  data: {}
`;

test('up creates network and volume first, waits for health, and is idempotent', async () => {
  const dir = project({ 'compose.yaml': spec });
  const engine = new FakeEngine({ images: ['web', 'db'] });
  let { r, out } = runner(engine, dir);
  await r.up({ detach: true, healthPollMs: 1 });
  assert.deepEqual(engine.calls, ['network create app_default', 'volume create app_data', 'create app-db-1', 'create app-web-1', 'start app-db-1', 'start app-web-1']);
  assert.equal(out.stderr, [' ✔ Network app_default  Created', ' ✔ Volume "app_data"  Created', ' ✔ Container app-db-1  Created',
    ' ✔ Container app-web-1  Created', ' ✔ Container app-db-1  Started', ' ✔ Container app-db-1  Healthy', ' ✔ Container app-web-1  Started', ''].join('\n'));
  const labels = engine.byName('app-web-1')!.body.Labels!;
  assert.equal(labels[L.project], 'app');
  assert.equal(labels[L.service], 'web');

  engine.calls.length = 0;
  ({ r, out } = runner(engine, dir));
  await r.up({ detach: true, healthPollMs: 1 });
  assert.deepEqual(engine.calls, []);
  assert.equal(out.stderr, ' ✔ Container app-db-1  Running\n ✔ Container app-db-1  Healthy\n ✔ Container app-web-1  Running\n');
});

test('an unhealthy dependency stops up before the dependent starts', async () => {
  const dir = project({ 'compose.yaml': spec });
  const engine = new FakeEngine({ images: ['web', 'db'] });
  engine.health = 'unhealthy';
  const { r } = runner(engine, dir);
  await assert.rejects(r.up({ detach: true, healthPollMs: 1 }), /dependency failed to start: container app-db-1 is unhealthy/);
  // Created ahead, as docker compose creates every service before starting any, but never started.
  assert.equal(engine.byName('app-web-1')!.state, 'created');
});

test('a changed service is recreated under the same name, keeping its anonymous volumes', async () => {
  const dir = project({ 'compose.yaml': spec });
  const engine = new FakeEngine({ images: ['web', 'db', 'web:2'] });
  await runner(engine, dir).r.up({ detach: true, healthPollMs: 1 });
  const before = engine.byName('app-web-1')!;
  const anon = before.volumes.find((v) => v.dest === '/scratch')!.name;

  writeFileSync(join(dir, 'compose.yaml'), spec.replace('image: web\n', 'image: web:2\n'));
  engine.calls.length = 0;
  const { r, out } = runner(engine, dir);
  await r.up({ detach: true, healthPollMs: 1 });
  const short = before.id.slice(0, 12);
  assert.deepEqual(engine.calls, ['stop app-web-1', `rename app-web-1 ${short}_app-web-1`, 'create app-web-1', `rm ${short}_app-web-1`, 'start app-web-1']);
  assert.match(out.stderr, / ✔ Container app-web-1  Recreated\n ✔ Container app-web-1  Started\n$/);
  const after = engine.byName('app-web-1')!;
  assert.notEqual(after.id, before.id);
  assert.equal(after.body.Image, 'web:2');
  assert.ok(after.body.HostConfig.Binds!.includes(`${anon}:/scratch:rw`));
  assert.ok(engine.volumes.has(anon));
});

test('up --scale adds and removes containers', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  w:\n    image: w\n' });
  const engine = new FakeEngine({ images: ['w'] });
  await runner(engine, dir).r.up({ detach: true, scale: { w: 3 } });
  assert.deepEqual([...engine.containers.values()].map((c) => c.name).sort(), ['app-w-1', 'app-w-2', 'app-w-3']);
  engine.calls.length = 0;
  await runner(engine, dir).r.up({ detach: true, scale: { w: 1 } });
  assert.deepEqual([...engine.calls].sort(), ['rm app-w-2', 'rm app-w-3', 'stop app-w-2', 'stop app-w-3']);
  assert.deepEqual([...engine.containers.values()].map((c) => c.name), ['app-w-1']);
});

test('down -v leaves nothing behind; down alone keeps named volumes', async () => {
  const dir = project({ 'compose.yaml': spec });
  const engine = new FakeEngine({ images: ['web', 'db'] });
  await runner(engine, dir).r.up({ detach: true, healthPollMs: 1 });
  engine.calls.length = 0;
  const { r, out } = runner(engine, dir);
  await r.down({ volumes: true });
  assert.deepEqual(engine.calls, ['stop app-web-1', 'rm app-web-1 -v', 'stop app-db-1', 'rm app-db-1 -v', 'network rm app_default', 'volume rm app_data']);
  assert.match(out.stderr, / ✔ Network app_default  Removed\n ✔ Volume "app_data"  Removed\n$/);
  assert.equal(engine.containers.size, 0);
  assert.equal(engine.networks.size, 0);
  assert.equal(engine.volumes.size, 0);

  await runner(engine, dir).r.up({ detach: true, healthPollMs: 1 });
  await runner(engine, dir).r.down();
  assert.equal(engine.containers.size, 0);
  assert.deepEqual([...engine.volumes.keys()].filter((v) => !/^[0-9a-f]{64}$/.test(v)), ['app_data']);
});

test('orphans are reported, and removed with --remove-orphans', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n  b:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  await runner(engine, dir).r.up({ detach: true });
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  a:\n    image: x\n');
  let { r, out } = runner(engine, dir);
  await r.up({ detach: true });
  assert.match(out.stderr, /Found orphan containers \(\[app-b-1\]\) for this project/);
  assert.ok(engine.byName('app-b-1'));
  ({ r, out } = runner(engine, dir));
  await r.up({ detach: true, removeOrphans: true });
  assert.equal(engine.byName('app-b-1'), undefined);
});

test('external resources must exist; missing images are pulled, builds built', async () => {
  const ext = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    networks: [shared]\nnetworks:\n  shared:\n    external: true\n' });
  const engine = new FakeEngine({ images: ['x'] });
  await assert.rejects(runner(engine, ext).r.up({ detach: true }), /network shared declared as external, but could not be found/);
  assert.equal(engine.containers.size, 0);

  const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: remote:1\n  b:\n    build: .\n' });
  const e2 = new FakeEngine();
  await runner(e2, dir).r.up({ detach: true });
  assert.deepEqual(e2.calls.slice(0, 3), ['pull remote:1', 'build app-b', 'network create app_default']);
  assert.equal(e2.byName('app-b-1')!.body.Image, 'app-b');
  assert.equal(e2.byName('app-b-1')!.body.Labels![L.image], e2.images.get('app-b:latest'));

  // up --build makes a new image: only the built service is recreated.
  e2.calls.length = 0;
  await runner(e2, dir).r.up({ detach: true, build: true });
  assert.deepEqual(e2.calls.filter((c) => !c.startsWith('rename')).map((c) => c.replace(/[0-9a-f]{12}_/, '')),
    ['build app-b', 'stop app-b-1', 'create app-b-1', 'rm app-b-1', 'start app-b-1']);
});

test('attached up streams every container with a name prefix', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n  bb:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  engine.logLines.set('app-a-1', ['hello']);
  engine.logLines.set('app-bb-1', ['world']);
  const { r, out } = runner(engine, dir);
  assert.equal(await r.up({ noColor: true }), 0);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines[0], 'Attaching to app-a-1, app-bb-1');
  assert.deepEqual(lines.slice(1).sort(), ['app-a-1   | hello', 'app-a-1 exited with code 0', 'app-bb-1  | world', 'app-bb-1 exited with code 0']);
});

test('ps in docker compose\'s format, -q and --services', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    command: nginx -g "daemon off;"\n    ports: ["8080:80"]\n  db:\n    image: pg\n' });
  const engine = new FakeEngine({ images: ['nginx', 'pg'] });
  await runner(engine, dir).r.up({ detach: true });
  let { r, out } = runner(engine, dir);
  await ps(r);
  const lines = out.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
  assert.match(lines[2], /^app-web-1\s+nginx\s+"nginx -g daemon off;"\s+web\s+\S.* ago\s+Up 2 seconds\s+0\.0\.0\.0:8080->80\/tcp$/);
  assert.match(lines[1], /^app-db-1\s+pg\s+""\s+db\s/);
  ({ r, out } = runner(engine, dir));
  await ps(r, { quiet: true });
  assert.deepEqual(out.stdout.trim().split('\n').sort(), [...engine.containers.keys()].sort());
  ({ r, out } = runner(engine, dir));
  await ps(r, { services: true });
  assert.equal(out.stdout, 'db\nweb\n');
  ({ r, out } = runner(engine, dir));
  await ps(r, { format: '{{.Name}} {{.Service}} {{.State}}' });
  assert.equal(out.stdout, 'app-db-1 db running\napp-web-1 web running\n');
});

test('rm asks first; stop/kill/restart act on the right containers', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n  b:\n    image: x\n    depends_on: [a]\n' });
  const engine = new FakeEngine({ images: ['x'] });
  await runner(engine, dir).r.up({ detach: true });
  engine.calls.length = 0;
  await runner(engine, dir).r.stop();
  assert.deepEqual(engine.calls, ['stop app-b-1', 'stop app-a-1']);
  await runner(engine, dir).r.rm([]);
  assert.equal(engine.containers.size, 2, 'declined confirmation removes nothing');
  await runner(engine, dir).r.rm(['a'], { force: true });
  assert.deepEqual([...engine.containers.values()].map((c) => c.name), ['app-b-1']);
  await runner(engine, dir).r.up({ detach: true });
  engine.calls.length = 0;
  await runner(engine, dir).r.kill(['b'], 'SIGTERM');
  assert.deepEqual(engine.calls, ['kill app-b-1 SIGTERM']);
  await assert.rejects(runner(engine, dir).r.stop(['nope']), /no such service: nope/);
});

test('run makes a one-off container after starting dependencies; exec finds the service container', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  db:\n    image: x\n  app:\n    image: x\n    depends_on: [db]\n    ports: ["80:80"]\n' });
  const engine = new FakeEngine({ images: ['x'] });
  const { r } = runner(engine, dir);
  assert.equal(await run(r, 'app', ['echo', 'hi'], { rm: true, env: ['X=1'] }), 0);
  const created = engine.calls.find((c) => c.startsWith('create app-app-run-'))!;
  const name = created.slice('create '.length);
  assert.deepEqual(engine.calls.filter((c) => !c.startsWith('network')), ['create app-db-1', 'start app-db-1', `create ${name}`, `run ${name}`, `rm ${name} -v`]);
  assert.equal(engine.byName(name), undefined);

  const { r: r2 } = runner(engine, dir);
  await assert.rejects(exec(r2, 'app', ['ls']), /^NotFound: service "app" is not running$/);
  await assert.rejects(exec(r2, 'db', ['ls'], { index: 2 }), /service "db" is not running container #2/);
  assert.equal(await exec(r2, 'db', ['ls', '/']), 0);
  assert.ok(engine.calls.includes('exec app-db-1 ls /'));
});

test('--abort-on-container-exit stops the rest; --exit-code-from returns that service\'s code', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  job:\n    image: x\n  server:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  // The fake's log streams end at once, as if the containers had exited; make `job` fail.
  const realInspect = engine.inspectContainer.bind(engine);
  engine.inspectContainer = async (id) => {
    const info = await realInspect(id);
    return info.Name === '/app-job-1' ? { ...info, State: { ...info.State, ExitCode: 3 } } : info;
  };
  const { r, out } = runner(engine, dir);
  assert.equal(await r.up({ noColor: true, exitCodeFrom: 'job' }), 3);
  assert.match(out.stderr, /Aborting on container exit\.\.\./);
  assert.ok(engine.calls.includes('stop app-server-1'));
  assert.match(out.stdout, /app-job-1 exited with code 3/);
});

test('a recreate that fails to create puts the old container back', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: web\n' });
  const engine = new FakeEngine({ images: ['web'] });
  await runner(engine, dir).r.up({ detach: true });
  const old = engine.byName('app-web-1')!;
  // The new image is missing and cannot be pulled.
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: web:broken\n');
  engine.pullImage = async () => { throw new Error('pull access denied for web'); };
  await assert.rejects(runner(engine, dir).r.up({ detach: true }), /pull access denied/);
  assert.equal(engine.byName('app-web-1')?.id, old.id);
  assert.equal(engine.byName('app-web-1')?.state, 'running');

  // Creation itself failing (image vanished between pull and create) also rolls back.
  engine.images.set('web:broken:latest', 'sha256:x');
  engine.images.set('web:broken', 'sha256:x');
  const create = engine.createContainer.bind(engine);
  engine.createContainer = async (name, body) => (body.Image === 'web:broken' ? Promise.reject(new Error('No such image: web:broken')) : create(name, body));
  await assert.rejects(runner(engine, dir).r.up({ detach: true }), /No such image/);
  assert.equal(engine.byName('app-web-1')?.id, old.id);
  assert.equal(engine.byName('app-web-1')?.state, 'running');
});

test('down -v also removes anonymous volumes carried over by a recreate', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  db:\n    image: x\n    volumes: ["/scratch"]\n' });
  const engine = new FakeEngine({ images: ['x', 'y'] });
  await runner(engine, dir).r.up({ detach: true });
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  db:\n    image: y\n    volumes: ["/scratch"]\n');
  await runner(engine, dir).r.up({ detach: true });
  assert.equal(engine.volumes.size, 1);
  await runner(engine, dir).r.down({ volumes: true });
  assert.equal(engine.volumes.size, 0);
  assert.equal(engine.containers.size, 0);
});

test('incompatible up flags and impossible scales change nothing', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    container_name: only\n' });
  const engine = new FakeEngine({ images: ['x'] });
  const { r } = runner(engine, dir);
  await assert.rejects(r.up({ detach: true, forceRecreate: true, noRecreate: true }), /--force-recreate and --no-recreate are incompatible/);
  await assert.rejects(r.up({ detach: true, scale: { a: 2 } }), /service "a" has container_name "only": it cannot be scaled to 2/);
  await assert.rejects(r.up({ detach: true, scale: { zz: 2 } }), /no such service: zz/);
  await assert.rejects(r.up({ detach: true, abortOnContainerExit: true }), /--abort-on-container-exit and --detach are incompatible/);
  assert.deepEqual(engine.calls, []);
});

test('Ctrl-C during attached up stops every container, dependents first', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  engine.followUntilStopped = true;
  let interrupt: (() => void) | undefined;
  const out = io();
  out.onInterrupt = (h) => { interrupt = h; return () => { interrupt = undefined; }; };
  const r = new ComposeRunner(engine, loadProject({ cwd: dir, env: {} }), out);
  const done = r.up({ noColor: true });
  while (!interrupt) await new Promise((res) => setTimeout(res, 5));
  assert.equal(engine.byName('app-web-1')!.state, 'running');
  interrupt();
  assert.equal(await done, 0);
  assert.match(out.stderr, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/);
  assert.deepEqual(engine.calls.filter((c) => c.startsWith('stop')), ['stop app-web-1', 'stop app-db-1']);
  assert.equal(interrupt, undefined, 'the handler is removed afterwards');
});

test('service_completed_successfully waits for the dependency to exit 0', async () => {
  const file = 'services:\n  migrate:\n    image: x\n  app:\n    image: x\n    depends_on:\n      migrate: {condition: service_completed_successfully}\n';
  const engine = new FakeEngine({ images: ['x'] });
  const { r, out } = runner(engine, project({ 'compose.yaml': file }));
  await r.up({ detach: true });
  assert.match(out.stderr, / ✔ Container app-migrate-1  Exited\n ✔ Container app-app-1  Started/);

  const failing = new FakeEngine({ images: ['x'] });
  failing.waitContainer = async () => 2;
  await assert.rejects(runner(failing, project({ 'compose.yaml': file })).r.up({ detach: true }), /service "migrate" didn't complete successfully: exit 2/);
  assert.equal(failing.byName('app-app-1')!.state, 'created');
});
