import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerComposeCommand, parseScale } from './cli.js';
import { FakeEngine } from './testing/fake-engine.js';
import { project, seedFig } from './testing/fixtures.js';

/** Runs `berth compose <args>` against `engine`, capturing stdout, stderr and the exit code. */
async function berth(engine: FakeEngine, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command('berth').exitOverride();
  let stdout = '';
  let stderr = '';
  registerComposeCommand(program, () => engine, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; }, confirm: async () => false });
  const before = process.exitCode;
  process.exitCode = 0;
  await program.parseAsync(['node', 'berth', 'compose', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { stdout, stderr, code };
}

test('berth compose drives the seed fig session', async () => {
  const dir = project({ 'fig.yml': seedFig }, 'project');
  const f = ['-f', join(dir, 'fig.yml')];
  const engine = new FakeEngine({ images: ['php:5.6-apache', 'postgres'] });
  assert.deepEqual(await berth(engine, [...f, 'up', '-d']), { stdout: '', stderr: 'Creating project_db_1 ... done\nCreating project_web_1 ... done\n', code: 0 });
  assert.equal((await berth(engine, [...f, 'stop', 'web'])).stderr, 'Stopping project_web_1 ... done\n');
  assert.equal((await berth(engine, [...f, 'start', 'web'])).stderr, 'Starting web ... done\n');
  await berth(engine, [...f, 'scale', 'web=3']);
  const ps = await berth(engine, [...f, 'ps']);
  assert.deepEqual(ps.stdout.split('\n').slice(2).map((l) => l.split(/\s+/)[0]).filter(Boolean), ['project_db_1', 'project_web_1', 'project_web_2', 'project_web_3']);
  const down = await berth(engine, [...f, 'down']);
  assert.equal(down.code, 0);
  assert.equal(engine.containers.size, 0);
});

test('config, config --services, -q and a refused file', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: "nginx:${TAG:-1}"\n' });
  const engine = new FakeEngine();
  const cfg = await berth(engine, ['--project-directory', dir, '-f', join(dir, 'compose.yaml'), 'config']);
  assert.equal(cfg.stdout, 'name: app\nservices:\n  web:\n    image: nginx:1\n    networks:\n      default: null\nnetworks:\n  default:\n    name: app_default\n');
  assert.equal((await berth(engine, ['-f', join(dir, 'compose.yaml'), 'config', '--services'])).stdout, 'web\n');
  const json = JSON.parse((await berth(engine, ['-f', join(dir, 'compose.yaml'), 'config', '--format', 'json'])).stdout);
  assert.deepEqual(json.services.web, { image: 'nginx:1', networks: { default: null } });
  assert.deepEqual(await berth(engine, ['-f', join(dir, 'compose.yaml'), 'config', '-q']), { stdout: '', stderr: '', code: 0 });
  const hash = await berth(engine, ['-f', join(dir, 'compose.yaml'), 'config', '--hash', 'web']);
  assert.match(hash.stdout, /^web [0-9a-f]{64}\n$/);

  const bad = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [ghost]\n' });
  const res = await berth(engine, ['-f', join(bad, 'compose.yaml'), 'up', '-d']);
  assert.equal(res.code, 1);
  assert.equal(res.stderr, `${join(bad, 'compose.yaml')}:4: service "web" depends on undefined service "ghost"\n`);
  assert.equal(engine.calls.length, 0);
});

test('-p names the project; unknown services and bad scale specs are errors', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  await berth(engine, ['-p', 'other', '-f', join(dir, 'compose.yaml'), 'up', '-d']);
  assert.ok(engine.byName('other-web-1'));
  const r = await berth(engine, ['-p', 'other', '-f', join(dir, 'compose.yaml'), 'stop', 'nope']);
  assert.deepEqual([r.code, r.stderr], [1, 'no such service: nope\n']);
  assert.throws(() => parseScale(['web']), /invalid scale specifier: web/);
  assert.deepEqual(parseScale(['web=3', 'db=0']), { web: 3, db: 0 });
});

test('exec passes the command\'s own flags through', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  const f = ['-f', join(dir, 'compose.yaml')];
  await berth(engine, [...f, 'up', '-d']);
  const r = await berth(engine, [...f, 'exec', '-T', 'web', 'ls', '-la', '/']);
  assert.equal(r.code, 0);
  assert.ok(engine.calls.includes('exec app-web-1 ls -la /'));
});

test('as a docker CLI plugin: metadata, then compose subcommands', async () => {
  const { runAsDockerPlugin } = await import('./plugin.js');
  let printed = '';
  const io = { out: (t: string) => { printed += t; }, err: () => undefined };
  await runAsDockerPlugin(['docker-cli-plugin-metadata'], () => new FakeEngine(), io);
  assert.equal(JSON.parse(printed).SchemaVersion, '0.1.0');
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n' });
  const engine = new FakeEngine({ images: ['x'] });
  await runAsDockerPlugin(['compose', '-f', join(dir, 'compose.yaml'), 'up', '-d'], () => engine, io);
  assert.ok(engine.byName('app-web-1'));
});
