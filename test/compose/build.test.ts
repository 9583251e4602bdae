import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { projectObjects, removeEverything, tempProject, type TempProject } from './project.js';

// `build:` in both forms (string, and context/dockerfile/args/target), built
// through the daemon's /build, then run; a second `up` uses the built image.
const composeYaml = `services:
  app:
    build: ./app
    command: cat /greeting
  tool:
    build:
      context: ./tool
      dockerfile: Tool.Dockerfile
      args:
        FLAVOUR: mint
      target: final
    command: sh -c 'cat /flavour; sleep 1000'
    stop_signal: SIGKILL
`;
const files = {
  'compose.yaml': composeYaml,
  'app/Dockerfile': 'FROM busybox\nRUN echo built-by-compose > /greeting\n',
  'tool/Tool.Dockerfile': [
    'FROM busybox AS broken',
    'RUN exit 3',
    'FROM busybox AS final',
    'ARG FLAVOUR=plain',
    'RUN echo $FLAVOUR > /flavour',
    '',
  ].join('\n'),
};

let d: TestDaemon;
let p: TempProject;
before(async () => {
  d = await startTestDaemon();
  p = await tempProject(d, 'buildapp', { 'compose.yaml': composeYaml });
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(p.dir, file)), { recursive: true });
    await p.write(file, text);
  }
});
after(async () => {
  if (d) await removeEverything(d).catch(() => undefined);
  await d?.cleanup();
  await p?.remove();
});

test('berth compose up --build builds both services (args, dockerfile, target) and runs them', async () => {
  const r = p.compose(['up', '-d', '--build'], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const images = d.berth(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n');
  assert.ok(images.includes('buildapp-app:latest'), images.join(' '));
  assert.ok(images.includes('buildapp-tool:latest'), images.join(' '));
  // The target stage only: `broken` would have failed the build.
  const logs = p.compose(['logs', '--no-color', 'app']);
  assert.match(logs.stdout, /built-by-compose/);
  const flavour = d.berth(['exec', 'buildapp-tool-1', 'cat', '/flavour']);
  assert.equal(flavour.stdout, 'mint\n', flavour.stderr);
  const ids = (await projectObjects(d, 'buildapp')).containers;
  assert.deepEqual(ids.sort(), ['buildapp-app-1', 'buildapp-tool-1']);
});

test('docker-compose 1.29 builds through the same /build', { skip: spawnSync('docker-compose', ['version']).status !== 0 && 'docker-compose not installed' }, async () => {
  const r = p.dockerCompose(['-p', 'dcbuild', 'build', 'app'], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /Successfully tagged dcbuild_app:latest/);
  const run = d.berth(['run', '--rm', 'dcbuild_app', 'cat', '/greeting']);
  assert.equal(run.stdout, 'built-by-compose\n', run.stderr);
});

test('down --rmi local removes the built images and everything else', async () => {
  const r = p.compose(['down', '-v', '--rmi', 'local']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await projectObjects(d, 'buildapp'), { containers: [], networks: [], volumes: [] });
  const images = d.berth(['images', '--format', '{{.Repository}}']).stdout.split('\n');
  assert.ok(!images.includes('buildapp-app') && !images.includes('buildapp-tool'), images.join(' '));
});
