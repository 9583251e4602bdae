import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProject } from './load.js';
import { ComposeError } from './source.js';
import { dependencyLevels } from './validate.js';
import { project } from './testing/fixtures.js';

/** Loads `text` as compose.yaml and returns the error message it is refused with. */
function refusal(text: string, extra: Record<string, string> = {}, env: Record<string, string> = {}): { msg: string; dir: string } {
  const dir = project({ 'compose.yaml': text, ...extra });
  try {
    loadProject({ cwd: dir, env });
  } catch (err) {
    assert.ok(err instanceof ComposeError, `expected a ComposeError, got ${err}`);
    return { msg: err.message, dir };
  }
  assert.fail('the file was accepted');
}

test('invalid YAML names the file and line', () => {
  const { msg, dir } = refusal('services:\n  web:\n    image: x\n   bad: [\n');
  assert.match(msg, new RegExp(`^${join(dir, 'compose.yaml')}:4: invalid YAML: `));
});

test('an unknown service key names file, line and service', () => {
  const { msg, dir } = refusal('services:\n  web:\n    image: x\n    imagee: y\n');
  assert.equal(msg, `${join(dir, 'compose.yaml')}:4: services.web additional properties 'imagee' not allowed`);
});

test('an unknown top-level key is refused', () => {
  const { msg, dir } = refusal('services:\n  web:\n    image: x\nservice:\n  a: 1\n');
  assert.equal(msg, `${join(dir, 'compose.yaml')}:4: (root) additional properties 'service' not allowed`);
});

test('mistyped values say what was expected', () => {
  assert.match(refusal('services:\n  web:\n    image: x\n    tty: "yes"\n').msg, /compose\.yaml:4: services\.web\.tty must be a boolean$/);
  assert.match(refusal('services:\n  web:\n    image: x\n    ports: 80\n').msg, /compose\.yaml:4: services\.web\.ports must be a list$/);
  assert.match(refusal('services:\n  web:\n    image: x\n    ports:\n      - target: "80"\n').msg, /compose\.yaml:5: services\.web\.ports\[0\]\.target must be an integer$/);
  assert.match(refusal('services:\n  web:\n    image: [x]\n').msg, /compose\.yaml:3: services\.web\.image must be a string$/);
  assert.match(refusal('services:\n  web:\n    image: x\n    mem_limit: lots\n').msg, /compose\.yaml:4: service "web": invalid size: 'lots'$/);
  assert.match(refusal('services:\n  web:\n    image: x\n    ports: ["80:80:80:80"]\n').msg, /compose\.yaml:4: service "web": invalid port format: 80:80:80:80$/);
  assert.match(refusal('services:\n  web:\n    image: x\n    healthcheck:\n      interval: soon\n').msg, /compose\.yaml:4: service "web": invalid duration: 'soon'$/);
});

test('a service without image or build', () => {
  const { msg, dir } = refusal('services:\n  ok:\n    image: x\n  web:\n    ports: ["80"]\n');
  assert.equal(msg, `${join(dir, 'compose.yaml')}:4: service "web" has neither an image nor a build context specified`);
});

test('a depends_on cycle', () => {
  const { msg } = refusal('services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n');
  assert.match(msg, /compose\.yaml:4: dependency cycle detected: a -> b -> c -> a$/);
});

test('depends_on an undefined service', () => {
  assert.match(refusal('services:\n  a:\n    image: x\n    depends_on: [nope]\n').msg, /compose\.yaml:4: service "a" depends on undefined service "nope"$/);
  assert.match(refusal('services:\n  a:\n    image: x\n    links: ["db:mysql"]\n').msg, /compose\.yaml:4: service "a" depends on undefined service "db"$/);
});

test('undefined networks and volumes', () => {
  assert.match(refusal('services:\n  a:\n    image: x\n    networks: [front]\n').msg, /compose\.yaml:4: service "a" refers to undefined network front$/);
  assert.match(refusal('services:\n  a:\n    image: x\n    volumes:\n      - data:/data\n').msg, /compose\.yaml:5: service "a" refers to undefined volume data$/);
});

test('required variables name the value\'s line', () => {
  const { msg, dir } = refusal('services:\n  a:\n    image: "x:${TAG:?TAG must be set}"\n');
  assert.equal(msg, `${join(dir, 'compose.yaml')}:3: services.a.image: required variable TAG is missing a value: TAG must be set`);
});

test('errors in a fig file point at the fig file\'s own lines', () => {
  const dir = project({ 'fig.yml': 'web:\n  image: x\n  linkz: [db]\n' });
  assert.throws(() => loadProject({ cwd: dir, env: {} }), (err: Error) => err.message === `${join(dir, 'fig.yml')}:3: services.web additional properties 'linkz' not allowed`);
});

test('the error points at the override file that brought the bad value', () => {
  const dir = project({
    'compose.yaml': 'services:\n  a:\n    image: x\n',
    'compose.override.yaml': 'services:\n  a:\n    networks: [ghost]\n',
  });
  assert.throws(() => loadProject({ cwd: dir, env: {} }), (err: Error) => err.message === `${join(dir, 'compose.override.yaml')}:3: service "a" refers to undefined network ghost`);
});

test('extends cycles and missing targets', () => {
  assert.match(refusal('services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: y\n    extends: a\n').msg, /circular reference with extends/);
  assert.match(refusal('services:\n  a:\n    image: x\n    extends: zz\n').msg, /compose\.yaml:4: service "a" extends undefined service "zz"$/);
});

test('dependency levels group independent services', () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [api, cache]\n  api:\n    image: x\n    depends_on: [db]\n  db:\n    image: x\n  cache:\n    image: x\n' });
  const p = loadProject({ cwd: dir, env: {} });
  assert.deepEqual(dependencyLevels(p.services), [['cache', 'db'], ['api'], ['web']]);
  assert.deepEqual(dependencyLevels(p.services, ['web', 'api']), [['api'], ['web']]);
});

test('bad service names and missing extends files', () => {
  assert.match(refusal('services:\n  "my web":\n    image: x\n').msg, /compose\.yaml:2: invalid service name "my web"/);
  assert.match(refusal('services:\n  a:\n    image: x\n    extends:\n      file: nope.yml\n      service: b\n').msg, /compose\.yaml:5: service "a" extends .*\/nope\.yml: no such file or directory$/);
});
