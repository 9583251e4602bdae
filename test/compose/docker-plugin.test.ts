import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { hostPort, httpGet, projectObjects, removeEverything, tempProject, type TempProject } from './project.js';

// `docker compose` through berth's plugin: installed by the setup step into a
// temp DOCKER_CONFIG/cli-plugins, run by the real docker CLI against berthd.
const docker = '/usr/local/bin/docker';
const haveDocker = spawnSync(docker, ['--version']).status === 0;
let d: TestDaemon;
let p: TempProject;
let config: string;
before(async () => {
  d = await startTestDaemon();
  p = await tempProject(d, 'plugapp', { 'compose.yaml': 'services:\n  web:\n    image: busybox\n    command: httpd -f -p 80 -h /etc\n    stop_signal: SIGKILL\n    ports: ["127.0.0.1::80"]\n' });
  config = mkdtempSync(path.join(tmpdir(), 'bt-dockercfg-'));
});
after(async () => {
  if (d) await removeEverything(d).catch(() => undefined);
  await d?.cleanup();
  await p?.remove();
  if (config) rmSync(config, { recursive: true, force: true });
});

function dockerCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(docker, args, { cwd: p.dir, encoding: 'utf8', timeout: 90_000, env: { ...process.env, DOCKER_CONFIG: config, DOCKER_HOST: d.host, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('the install script links the plugin only where no docker-compose plugin exists', { skip: !haveDocker && 'no docker CLI' }, () => {
  const plugins = path.join(config, 'cli-plugins');
  const run = () => spawnSync('bash', [path.join(repoRoot, 'scripts/install-compose-plugin.sh'), plugins],
    { encoding: 'utf8', env: { ...process.env, CLI_PLUGIN_DIRS: plugins } });
  let r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readlinkSync(path.join(plugins, 'docker-compose')), path.join(repoRoot, 'bin/docker-compose'));
  r = run();
  assert.match(r.stdout, /already runs berth compose/);
  const info = dockerCli(['info', '--format', '{{json .ClientInfo.Plugins}}']);
  const compose = (JSON.parse(info.stdout) as { Name: string; Vendor: string }[]).find((x) => x.Name === 'compose');
  assert.equal(compose?.Vendor, 'Berth', info.stdout + info.stderr);
  // Another docker-compose plugin where docker looks first: left alone, nothing linked.
  const other = path.join(config, 'other');
  mkdirSync(other);
  writeFileSync(path.join(other, 'docker-compose'), '#!/bin/sh\n', { mode: 0o755 });
  const target = path.join(config, 'system-plugins');
  r = spawnSync('bash', [path.join(repoRoot, 'scripts/install-compose-plugin.sh'), target],
    { encoding: 'utf8', env: { ...process.env, CLI_PLUGIN_DIRS: `${other} ${target}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /leaving the installed plugin .*other\/docker-compose in place/);
  assert.equal(existsSync(path.join(target, 'docker-compose')), false);
});

test('docker compose up -d, ps, port and down -v run berth compose against berthd', { skip: !haveDocker && 'no docker CLI' }, async () => {
  let r = dockerCli(['compose', 'up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Container plugapp-web-1\s+Started/);
  r = dockerCli(['compose', 'ps']);
  assert.match(r.stdout, /^plugapp-web-1\s+busybox\s+.*\bweb\s+.*Up .*127\.0\.0\.1:\d+->80\/tcp$/m, r.stderr);
  const port = hostPort(dockerCli(['compose', 'port', 'web', '80']).stdout);
  assert.equal((await httpGet(port, '/passwd')).status, 200);
  // The host from docker's -H global option, with no DOCKER_HOST in the environment.
  r = dockerCli(['-H', d.host, 'compose', 'down', '-v'], { DOCKER_HOST: '' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await projectObjects(d, 'plugapp'), { containers: [], networks: [], volumes: [] });
});
