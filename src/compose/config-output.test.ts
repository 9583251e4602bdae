import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProject } from './load.js';
import { renderConfig, renderServices, renderVolumes } from './config-output.js';
import { serviceConfigHash } from './hash.js';
import { project, seedFig } from './testing/fixtures.js';

test('config prints the normalised project', () => {
  const dir = project({
    '.env': 'TAG=3\n',
    'compose.yaml': `services:
  web:
    image: "nginx:\${TAG}"
    ports: ["8080:80"]
    depends_on: [db]
    environment: [A=1]
    healthcheck:
      test: curl -f http://localhost
      interval: 90s
    stop_grace_period: 1m30s
    mem_limit: 1g
  db:
    image: postgres
    volumes: ["data:/var/lib/postgresql/data", "./init:/docker-entrypoint-initdb.d:ro"]
volumes:
  data: {}
`,
  });
  const expected = `name: app
services:
  db:
    image: postgres
    networks:
      default: null
    volumes:
      - type: volume
        source: data
        target: /var/lib/postgresql/data
        volume: {}
      - type: bind
        source: ${dir}/init
        target: /docker-entrypoint-initdb.d
        read_only: true
        bind:
          create_host_path: true
  web:
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      A: "1"
    healthcheck:
      interval: 1m30s
      test:
        - CMD-SHELL
        - curl -f http://localhost
    image: nginx:3
    mem_limit: "1073741824"
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    stop_grace_period: 1m30s
networks:
  default:
    name: app_default
volumes:
  data:
    name: app_data
`;
  assert.equal(renderConfig(loadProject({ cwd: dir, env: {} })), expected);
});

test('config of the seed fig file', () => {
  const dir = project({ 'fig.yml': seedFig }, 'project');
  const out = renderConfig(loadProject({ cwd: dir, env: {} }));
  assert.match(out, /^name: project\nservices:\n  db:\n    image: postgres\n  web:\n/);
  assert.match(out, /    links:\n      - db:mysql\n/);
  assert.doesNotMatch(out, /networks:/);
});

test('config --services and --volumes', () => {
  const dir = project({ 'compose.yaml': 'services:\n  b:\n    image: x\n  a:\n    image: x\nvolumes:\n  v2: {}\n  v1: {}\n' });
  const p = loadProject({ cwd: dir, env: {} });
  assert.equal(renderServices(p), 'a\nb\n');
  assert.equal(renderVolumes(p), 'v1\nv2\n');
});

test('the config hash ignores spelling and key order but not meaning', () => {
  const a = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    environment: [A=1, B=2]\n    ports: ["80:80"]\n    command: echo hi\n' });
  const b = project({ 'compose.yaml': 'services:\n  web:\n    command: [echo, hi]\n    ports:\n      - {target: 80, published: 80}\n    environment: {B: "2", A: 1}\n    image: x\n' });
  const ha = serviceConfigHash(loadProject({ cwd: a, env: {} }).services.web);
  const hb = serviceConfigHash(loadProject({ cwd: b, env: {} }).services.web);
  assert.match(ha, /^[0-9a-f]{64}$/);
  assert.equal(ha, hb);
  // Stable across loads of the same file.
  assert.equal(serviceConfigHash(loadProject({ cwd: a, env: {} }).services.web), ha);

  const changed = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    environment: [A=1, B=3]\n    ports: ["80:80"]\n    command: echo hi\n' });
  assert.notEqual(serviceConfigHash(loadProject({ cwd: changed, env: {} }).services.web), ha);
});

test('scale, replicas, depends_on, profiles and build do not change the hash', () => {
  const base = 'services:\n  db:\n    image: d\n  web:\n    image: x\n';
  const more = 'services:\n  db:\n    image: d\n  web:\n    image: x\n    scale: 3\n    depends_on: [db]\n    profiles: [p]\n    build: .\n    deploy: {replicas: 2}\n';
  const h1 = serviceConfigHash(loadProject({ cwd: project({ 'compose.yaml': base }), env: {} }).services.web);
  const h2 = serviceConfigHash(loadProject({ cwd: project({ 'compose.yaml': more }), env: {}, profiles: ['p'] }).services.web);
  assert.equal(h1, h2);
});
