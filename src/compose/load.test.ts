import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadProject, normalizeProjectName } from './load.js';
import { project, seedFig } from './testing/fixtures.js';

const noEnv = {};

test('the seed fig.yml loads as a version 1 project named after its directory', () => {
  const dir = project({ 'fig.yml': seedFig }, 'Project');
  const p = loadProject({ cwd: dir, env: noEnv });
  assert.equal(p.name, 'project');
  assert.equal(p.legacy, true);
  assert.deepEqual(Object.keys(p.services), ['web', 'db']);
  const web = p.services.web;
  assert.equal(web.image, 'php:5.6-apache');
  assert.deepEqual(web.links, ['db:mysql']);
  assert.deepEqual(web.volumes, [{ type: 'bind', source: dir, target: '/var/www/html', bind: { create_host_path: true } }]);
  assert.deepEqual(web.ports, [{ mode: 'ingress', target: 80, published: '80', protocol: 'tcp' }]);
  // links imply the start order; fig files get no project network.
  assert.deepEqual(web.depends_on, { db: { condition: 'service_started', required: true } });
  assert.deepEqual(web.networks, {});
  assert.deepEqual(p.networks, {});
  assert.deepEqual(p.configFiles, [join(dir, 'fig.yml')]);
});

test('files are discovered in parent directories, compose.yaml first', () => {
  const dir = project({
    'compose.yaml': 'services:\n  a:\n    image: x\n',
    'docker-compose.yml': 'services:\n  b:\n    image: y\n',
    'sub/deeper/.keep': '',
  });
  const p = loadProject({ cwd: join(dir, 'sub', 'deeper'), env: noEnv });
  assert.deepEqual(Object.keys(p.services), ['a']);
  assert.equal(p.workingDir, dir);
  assert.equal(p.name, 'app');
});

test('no file anywhere is a clear error', () => {
  const dir = project({}, 'empty');
  assert.throws(() => loadProject({ cwd: dir, env: noEnv }), /no configuration file provided: not found/);
});

test('-f files merge in order with compose\'s rules', () => {
  const dir = project({
    'base.yml': `services:
  web:
    image: web:1
    command: ["run", "a"]
    environment: [A=1, B=2]
    ports: ["80:80"]
    volumes: ["./a:/data", "logs:/logs"]
    labels: {x: "1"}
    dns: 1.1.1.1
volumes:
  logs: {}
`,
    'override.yml': `services:
  web:
    image: web:2
    command: run b
    environment:
      B: "3"
      C: "4"
    ports: ["443:443"]
    volumes: ["./b:/data"]
    labels: [y=2]
    dns: [8.8.8.8]
`,
  });
  const p = loadProject({ cwd: dir, files: ['base.yml', 'override.yml'], env: noEnv });
  const web = p.services.web;
  assert.equal(web.image, 'web:2');
  assert.deepEqual(web.command, ['run', 'b']);
  assert.deepEqual(web.environment, { A: '1', B: '3', C: '4' });
  assert.deepEqual(web.ports.map((x) => x.published), ['80', '443']);
  assert.deepEqual(web.volumes.map((v) => `${v.source}:${v.target}`), [`${dir}/b:/data`, 'logs:/logs']);
  assert.deepEqual(web.labels, { x: '1', y: '2' });
  assert.deepEqual(web.dns, ['1.1.1.1', '8.8.8.8']);
  assert.deepEqual(p.configFiles, [join(dir, 'base.yml'), join(dir, 'override.yml')]);
});

test('-f - reads the file from stdin, relative to the working directory', () => {
  const dir = project({});
  const p = loadProject({ cwd: dir, files: ['-'], stdin: 'services:\n  s:\n    build: ./ctx\n', env: noEnv });
  assert.equal(p.services.s.build?.context, join(dir, 'ctx'));
  assert.deepEqual(p.configFiles, ['-']);
});

test('project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', () => {
  const dir = project({ 'compose.yaml': 'name: fromfile\nservices:\n  a:\n    image: x\n' }, 'My App.v2');
  assert.equal(loadProject({ cwd: dir, env: noEnv, projectName: 'flag' }).name, 'flag');
  assert.equal(loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'envname' } }).name, 'envname');
  assert.equal(loadProject({ cwd: dir, env: noEnv }).name, 'fromfile');
  const plain = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n' }, 'My App.v2');
  assert.equal(loadProject({ cwd: plain, env: noEnv }).name, 'myappv2');
  assert.equal(normalizeProjectName('_Hello-World_1'), 'hello-world_1');
  assert.throws(() => loadProject({ cwd: dir, env: noEnv, projectName: 'Bad Name' }),
    /invalid project name "Bad Name": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number/);
});

test('.env feeds interpolation and the project name; the process environment wins', () => {
  const dir = project({
    '.env': 'TAG=1.0\nCOMPOSE_PROJECT_NAME=dotenv\nPORT=8000\n',
    'other.env': 'TAG=2.0\n',
    'compose.yaml': `services:
  web:
    image: "nginx:\${TAG}"
    ports: ["\${PORT:-80}:80"]
    environment:
      PRICE: "5$$"
      HOME_DIR: $HOME_DIR
      DEF: \${NOPE-fallback}
`,
  });
  const p = loadProject({ cwd: dir, env: { PORT: '9000', HOME_DIR: '/h' } });
  assert.equal(p.name, 'dotenv');
  assert.equal(p.services.web.image, 'nginx:1.0');
  assert.equal(p.services.web.ports[0].published, '9000');
  assert.deepEqual(p.services.web.environment, { PRICE: '5$', HOME_DIR: '/h', DEF: 'fallback' });
  const q = loadProject({ cwd: dir, env: noEnv, envFiles: [join(dir, 'other.env')] });
  assert.equal(q.services.web.image, 'nginx:2.0');
  assert.equal(q.name, 'app');
});

test('env_file and bare environment names resolve; environment overrides env_file', () => {
  const dir = project({
    'web.env': 'A=from-file\nB=from-file\n',
    'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: web.env\n    environment:\n      - B=inline\n      - FROM_HOST\n      - MISSING\n',
  });
  const p = loadProject({ cwd: dir, env: { FROM_HOST: 'h' } });
  assert.deepEqual(p.services.web.environment, { A: 'from-file', B: 'inline', FROM_HOST: 'h', MISSING: null });
});

test('anchors and merge keys', () => {
  const dir = project({
    'compose.yaml': `x-base: &base
  image: busybox
  restart: always
  environment: &env
    LEVEL: debug
services:
  a:
    <<: *base
    command: echo a
  b:
    <<: *base
    restart: "no"
    environment:
      <<: *env
      EXTRA: "1"
`,
  });
  const p = loadProject({ cwd: dir, env: noEnv });
  assert.equal(p.services.a.restart, 'always');
  assert.equal(p.services.a.image, 'busybox');
  assert.equal(p.services.b.restart, 'no');
  assert.deepEqual(p.services.b.environment, { LEVEL: 'debug', EXTRA: '1' });
});

test('extends: same file and another file, paths relative to the extended file', () => {
  const dir = project({
    'common/base.yml': 'services:\n  base:\n    image: base:1\n    volumes: ["./data:/data"]\n    environment: {A: "1"}\n',
    'compose.yaml': `services:
  local:
    image: local
    environment: {L: "1"}
    ports: ["1000:1000"]
  child:
    extends: local
    environment: {C: "2"}
  remote:
    extends:
      file: common/base.yml
      service: base
    environment: {B: "2"}
`,
  });
  const p = loadProject({ cwd: dir, env: noEnv });
  assert.equal(p.services.child.image, 'local');
  assert.deepEqual(p.services.child.environment, { L: '1', C: '2' });
  assert.equal(p.services.child.ports[0].published, '1000');
  assert.equal(p.services.remote.image, 'base:1');
  assert.deepEqual(p.services.remote.environment, { A: '1', B: '2' });
  assert.equal(p.services.remote.volumes[0].source, join(dir, 'common', 'data'));
});

test('profiles: off unless activated by --profile, COMPOSE_PROFILES or naming the service', () => {
  const dir = project({
    'compose.yaml': 'services:\n  web:\n    image: w\n  debug:\n    image: d\n    profiles: [dev]\n  ops:\n    image: o\n    profiles: [ops]\n',
  });
  assert.deepEqual(Object.keys(loadProject({ cwd: dir, env: noEnv }).services), ['web']);
  assert.deepEqual(Object.keys(loadProject({ cwd: dir, env: noEnv, profiles: ['dev'] }).services), ['web', 'debug']);
  assert.deepEqual(Object.keys(loadProject({ cwd: dir, env: { COMPOSE_PROFILES: 'ops,dev' } }).services), ['web', 'debug', 'ops']);
  assert.deepEqual(Object.keys(loadProject({ cwd: dir, env: noEnv, enableServices: ['ops'] }).services), ['web', 'ops']);
});

test('version 2.x and 3.x files normalise to the same model', () => {
  const v2 = project({
    'docker-compose.yml': `version: "2.4"
services:
  db:
    image: postgres
    healthcheck:
      test: ["CMD", "pg_isready"]
      interval: 1m30s
      timeout: 500ms
      retries: 3
    mem_limit: 512m
    cpus: 0.5
    ulimits:
      nofile: {soft: 1024, hard: 2048}
      nproc: 65535
  web:
    build: ./web
    depends_on:
      db:
        condition: service_healthy
    stop_grace_period: 1m
    tmpfs: /run
    extra_hosts: ["somehost:10.0.0.1"]
    networks:
      front:
        aliases: [www]
        ipv4_address: 172.30.0.10
networks:
  front:
    driver: bridge
    ipam:
      config: [{subnet: 172.30.0.0/24}]
`,
  });
  const p = loadProject({ cwd: v2, env: noEnv });
  const db = p.services.db;
  assert.deepEqual(db.healthcheck, { test: ['CMD', 'pg_isready'], interval: 90e9, timeout: 500e6, retries: 3 });
  assert.equal(db.mem_limit, 512 * 1024 * 1024);
  assert.equal(db.cpus, 0.5);
  assert.deepEqual(db.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 65535, hard: 65535 } });
  const web = p.services.web;
  assert.deepEqual(web.build, { context: join(v2, 'web'), dockerfile: 'Dockerfile', args: {}, labels: {}, cache_from: [] });
  assert.equal(web.depends_on.db.condition, 'service_healthy');
  assert.equal(web.stop_grace_period, 60e9);
  assert.deepEqual(web.tmpfs, ['/run']);
  assert.deepEqual(web.networks, { front: { aliases: ['www'], ipv4_address: '172.30.0.10' } });
  assert.equal(p.networks.front.name, 'app_front');
  assert.deepEqual(p.networks.front.ipam, { config: [{ subnet: '172.30.0.0/24' }] });

  const v3 = project({
    'docker-compose.yml': `version: "3.8"
services:
  api:
    image: api
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "1.5", memory: 1g}
    ports:
      - target: 8080
        published: 18080
        protocol: tcp
    volumes:
      - type: volume
        source: data
        target: /data
        read_only: true
volumes:
  data:
    external: true
`,
  });
  const api = loadProject({ cwd: v3, env: noEnv }).services.api;
  assert.deepEqual(api.deploy, { replicas: 2, resources: { limits: { cpus: 1.5, memory: 1024 ** 3 } } });
  assert.deepEqual(api.ports, [{ mode: 'ingress', target: 8080, published: '18080', protocol: 'tcp' }]);
  assert.deepEqual(api.volumes, [{ type: 'volume', source: 'data', target: '/data', read_only: true, volume: {} }]);
});

test('short port and volume syntaxes', () => {
  const dir = project({
    'compose.yaml': `services:
  s:
    image: x
    ports: ["3000", "8000-8001:9000-9001", "127.0.0.1:5000:5000/udp", "[::1]:6000:6000", 7000]
    volumes: ["/anon", "named:/n:ro,nocopy", "~/cfg:/cfg", "/abs:/abs:rw"]
volumes:
  named:
`,
  });
  const s = loadProject({ cwd: dir, env: { HOME: '/home/u' } }).services.s;
  assert.deepEqual(s.ports.map((p) => `${p.host_ip ?? ''}|${p.published ?? ''}|${p.target}/${p.protocol}`),
    ['||3000/tcp', '|8000|9000/tcp', '|8001|9001/tcp', '127.0.0.1|5000|5000/udp', '::1|6000|6000/tcp', '||7000/tcp']);
  assert.deepEqual(s.volumes[0], { type: 'volume', target: '/anon' });
  assert.deepEqual(s.volumes[1], { type: 'volume', source: 'named', target: '/n', read_only: true, volume: { nocopy: true } });
  assert.equal(s.volumes[2].type, 'bind');
  assert.match(s.volumes[2].source!, /\/cfg$/);
});

test('a service named on the command line is found even in a subdirectory project', () => {
  const dir = project({ 'docker-compose.yml': 'version: "3"\nservices:\n  only:\n    image: x\n' });
  mkdirSync(join(dir, 'src'));
  assert.deepEqual(Object.keys(loadProject({ cwd: join(dir, 'src'), env: noEnv }).services), ['only']);
});

test('!reset and !override in an override file', () => {
  const dir = project({
    'compose.yaml': 'services:\n  web:\n    image: x\n    ports: ["80:80", "443:443"]\n    environment: {A: "1", B: "2"}\n    dns: [1.1.1.1]\n',
    'compose.override.yaml': 'services:\n  web:\n    ports: !override ["8080:80"]\n    environment: !reset {}\n    dns: !reset null\n    command: !override echo hi\n',
  });
  const web = loadProject({ cwd: dir, env: {} }).services.web;
  assert.deepEqual(web.ports.map((p) => p.published), ['8080']);
  assert.deepEqual(web.environment, {});
  assert.deepEqual(web.dns, []);
  assert.deepEqual(web.command, ['echo', 'hi']);
});

test('fig\'s dockerfile key beside build', () => {
  const dir = project({ 'fig.yml': 'app:\n  build: .\n  dockerfile: Dockerfile.dev\n' });
  const app = loadProject({ cwd: dir, env: {} }).services.app;
  assert.deepEqual(app.build, { context: dir, dockerfile: 'Dockerfile.dev', args: {}, labels: {}, cache_from: [] });
});

test('COMPOSE_FILE, from the environment or .env, lists the files', () => {
  const dir = project({
    'a.yml': 'services:\n  a:\n    image: x\n',
    'b.yml': 'services:\n  b:\n    image: y\n',
    '.env': 'COMPOSE_FILE=a.yml:b.yml\n',
  });
  assert.deepEqual(Object.keys(loadProject({ cwd: dir, env: {} }).services), ['a', 'b']);
  assert.deepEqual(Object.keys(loadProject({ cwd: dir, env: { COMPOSE_FILE: 'b.yml' } }).services), ['b']);
});

test('environment and label values keep the text as written', () => {
  const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    environment:\n      VERSION: 1.10\n      MODE: 0755\n      ON: true\n    labels:\n      n: 1e3\n    stop_grace_period: 10s\n    scale: 2\n' });
  const a = loadProject({ cwd: dir, env: {} }).services.a;
  assert.deepEqual(a.environment, { VERSION: '1.10', MODE: '0755', ON: 'true' });
  assert.deepEqual(a.labels, { n: '1e3' });
  assert.equal(a.scale, 2);
});
