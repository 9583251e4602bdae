import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProject } from './load.js';
import { containerName, createBody, L, networkCreateBody, volumeCreateBody, composeVersion } from './container-spec.js';
import { planUp, stopOrder } from './plan.js';
import type { ContainerSummary } from './engine.js';
import { serviceConfigHash } from './hash.js';
import { project, seedFig } from './testing/fixtures.js';

const specFile = `services:
  web:
    image: nginx
    ports: ["127.0.0.1:8080:80", "443"]
    expose: ["9000"]
    depends_on:
      db: {condition: service_healthy}
    networks:
      front: {aliases: [www]}
      back: {}
    environment: {B: "2", A: "1", UNSET: null}
    volumes: ["cache:/cache", "/anon", "./conf:/etc/nginx/conf.d:ro"]
    tmpfs: ["/run:size=1m"]
    restart: on-failure:3
    mem_limit: 256m
    cpus: 1.5
    ulimits: {nofile: 1024}
    healthcheck: {test: ["CMD", "true"], interval: 10s, retries: 2}
    stop_grace_period: 20s
    init: true
  db:
    image: postgres
    networks: [back]
networks:
  front: {}
  back:
    internal: true
    labels: {tier: back}
volumes:
  cache:
    labels: {keep: "yes"}
`;

function container(p: ReturnType<typeof loadProject>, service: string, n: number, state = 'running', hash?: string): ContainerSummary {
  const s = p.services[service];
  return {
    Id: `${service}${n}`.padEnd(64, '0'), Names: [`/${containerName(p, s, n)}`], Image: s.image ?? '', Command: '', Created: 0,
    State: state, Status: state === 'running' ? 'Up 1 second' : 'Exited (0) 1 second ago', Ports: [],
    Labels: { [L.project]: p.name, [L.service]: service, [L.number]: String(n), [L.oneoff]: 'False', [L.hash]: hash ?? serviceConfigHash(s) },
  };
}

test('container names: dashes for compose files, underscores for fig files and --compatibility', () => {
  const spec = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  web:\n    image: x\n  db:\n    image: y\n    container_name: mydb\n' }), env: {} });
  assert.equal(containerName(spec, spec.services.web, 2), 'app-web-2');
  assert.equal(containerName(spec, spec.services.db, 1), 'mydb');
  const fig = loadProject({ cwd: project({ 'fig.yml': seedFig }, 'project'), env: {} });
  assert.equal(containerName(fig, fig.services.web, 1), 'project_web_1');
  const compat = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  web:\n    image: x\n' }), env: {}, compatibility: true });
  assert.equal(containerName(compat, compat.services.web, 1), 'app_web_1');
});

test('the create body carries compose\'s labels and every setting', () => {
  const dir = project({ 'compose.yaml': specFile });
  const p = loadProject({ cwd: dir, env: {} });
  const body = createBody(p, p.services.web, 1, { db: ['app-db-1'] });
  assert.deepEqual(body.Labels, {
    [L.project]: 'app', [L.service]: 'web', [L.number]: '1', [L.hash]: serviceConfigHash(p.services.web), [L.oneoff]: 'False',
    [L.workingDir]: dir, [L.configFiles]: `${dir}/compose.yaml`, [L.version]: composeVersion,
    [L.dependsOn]: 'db:service_healthy:false', [L.image]: 'nginx',
  });
  assert.equal(body.Image, 'nginx');
  assert.deepEqual(body.Env, ['A=1', 'B=2']);
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {}, '443/tcp': {}, '9000/tcp': {} });
  assert.deepEqual(body.Volumes, { '/anon': {} });
  assert.deepEqual(body.Healthcheck, { Test: ['CMD', 'true'], Interval: 10e9, Retries: 2 });
  assert.equal(body.StopTimeout, 20);
  const h = body.HostConfig;
  assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '443/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(h.Binds, ['app_cache:/cache:rw', `${dir}/conf:/etc/nginx/conf.d:ro`]);
  assert.deepEqual(h.Tmpfs, { '/run': 'size=1m' });
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(h.Memory, 256 * 1024 * 1024);
  assert.equal(h.NanoCpus, 1.5e9);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 1024 }]);
  assert.equal(h.Init, true);
  // The first network (by name) at create time, the others connected afterwards.
  assert.equal(h.NetworkMode, 'app_back');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { app_back: { Aliases: ['app-web-1', 'web'] } } });
});

test('fig links become legacy links on the default bridge', () => {
  const p = loadProject({ cwd: project({ 'fig.yml': seedFig }, 'project'), env: {} });
  const body = createBody(p, p.services.web, 1, { db: ['project_db_1'] });
  assert.equal(body.HostConfig.NetworkMode, 'bridge');
  assert.deepEqual(body.HostConfig.Links, ['project_db_1:mysql', 'project_db_1:project_db_1', 'project_db_1:db_1']);
  assert.equal(body.NetworkingConfig, undefined);
  assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '80' }] });
});

test('network_mode service:, volumes_from and external links name the other containers', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  a:\n    image: x\n  b:\n    image: x\n    network_mode: "service:a"\n    volumes_from: ["a:ro", "container:other"]\n  c:\n    image: x\n    links: [a]\n    external_links: ["redis:cache"]\n' }), env: {} });
  const body = createBody(p, p.services.b, 1, { a: ['app-a-1'] });
  assert.equal(body.HostConfig.NetworkMode, 'container:app-a-1');
  assert.deepEqual(body.HostConfig.VolumesFrom, ['app-a-1:ro', 'other']);
  assert.equal(body.NetworkingConfig, undefined);
  // On a project network, links travel with the endpoint.
  const c = createBody(p, p.services.c, 1, { a: ['app-a-1'] });
  assert.equal(c.HostConfig.Links, null);
  assert.deepEqual(c.NetworkingConfig?.EndpointsConfig.app_default, {
    Aliases: ['app-c-1', 'c'], Links: ['app-a-1:a', 'app-a-1:app-a-1', 'app-a-1:a-1', 'redis:cache'],
  });
});

test('network and volume create bodies carry compose labels', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': specFile }), env: {} });
  assert.deepEqual(networkCreateBody(p, 'back'), {
    Name: 'app_back', CheckDuplicate: true, Internal: true,
    Labels: { tier: 'back', [L.project]: 'app', [L.network]: 'back', [L.version]: composeVersion },
  });
  assert.deepEqual(volumeCreateBody(p, 'cache'), {
    Name: 'app_cache', Labels: { keep: 'yes', [L.project]: 'app', [L.volume]: 'cache', [L.version]: composeVersion },
  });
});

test('planUp: a fresh project creates everything in dependency order', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': specFile }), env: {} });
  const plan = planUp(p, []);
  assert.deepEqual(plan.networks, ['back', 'front']);
  assert.deepEqual(plan.volumes, ['cache']);
  assert.deepEqual(plan.levels.map((l) => l.map((s) => s.actions.map((a) => `${a.kind} ${a.name}`))), [[['create app-db-1']], [['create app-web-1']]]);
});

test('planUp: unchanged running containers are left, stopped ones started, changed ones recreated', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  a:\n    image: x\n  b:\n    image: x\n  c:\n    image: x\n' }), env: {} });
  const existing = [container(p, 'a', 1), container(p, 'b', 1, 'exited'), container(p, 'c', 1, 'running', 'old-hash')];
  const kinds = (plan: ReturnType<typeof planUp>) => plan.levels.flat().map((s) => `${s.service}:${s.actions.map((a) => a.kind).join(',')}`);
  assert.deepEqual(kinds(planUp(p, existing)), ['a:keep', 'b:start', 'c:recreate']);
  assert.deepEqual(kinds(planUp(p, existing, { forceRecreate: true })), ['a:recreate', 'b:recreate', 'c:recreate']);
  assert.deepEqual(kinds(planUp(p, existing, { noRecreate: true })), ['a:keep', 'b:start', 'c:keep']);
});

test('planUp: scaling up numbers new containers after the highest; scaling down removes the highest', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  web:\n    image: x\n' }), env: {} });
  const up = planUp(p, [container(p, 'web', 1)], { scale: { web: 3 } });
  assert.deepEqual(up.levels[0][0].actions.map((a) => `${a.kind} ${a.name}`), ['keep app-web-1', 'create app-web-2', 'create app-web-3']);
  const down = planUp(p, [container(p, 'web', 1), container(p, 'web', 2), container(p, 'web', 3)], { scale: { web: 1 } });
  assert.deepEqual(down.levels[0][0].actions.map((a) => `${a.kind} ${a.name}`), ['keep app-web-1', 'remove app-web-3', 'remove app-web-2']);
});

test('planUp: services named with their dependencies, or alone with noDeps; orphans found', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: x\n  other:\n    image: x\n' }), env: {} });
  const orphan = { ...container(p, 'web', 1), Id: 'o'.repeat(64), Names: ['/app-gone-1'], Labels: { ...container(p, 'web', 1).Labels, [L.service]: 'gone' } };
  const plan = planUp(p, [orphan], { services: ['web'] });
  assert.deepEqual(plan.levels.map((l) => l.map((s) => s.service)), [['db'], ['web']]);
  assert.deepEqual(plan.orphans.map((c) => c.Names[0]), ['/app-gone-1']);
  assert.deepEqual(planUp(p, [], { services: ['web'], noDeps: true }).levels.map((l) => l.map((s) => s.service)), [['web']]);
});

test('stopOrder: dependents first, orphans before everything', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: x\n' }), env: {} });
  const orphan = { ...container(p, 'web', 9), Labels: { ...container(p, 'web', 9).Labels, [L.service]: 'gone' }, Names: ['/app-gone-1'] };
  const order = stopOrder(p, [container(p, 'db', 1), container(p, 'web', 1), container(p, 'web', 2), orphan]);
  assert.deepEqual(order.map((g) => g.map((c) => c.Names[0])), [['/app-gone-1'], ['/app-web-2', '/app-web-1'], ['/app-db-1']]);
});

test('--compatibility keeps the project network and only changes names', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    links: [db]\n  db:\n    image: y\n' }), env: {}, compatibility: true });
  const body = createBody(p, p.services.web, 1, { db: ['app_db_1'] });
  assert.equal(body.HostConfig.NetworkMode, 'app_default');
  assert.deepEqual(body.NetworkingConfig?.EndpointsConfig.app_default.Aliases, ['app_web_1', 'web']);
  assert.deepEqual(body.NetworkingConfig?.EndpointsConfig.app_default.Links, ['app_db_1:db', 'app_db_1:app_db_1', 'app_db_1:db_1']);
  assert.deepEqual(planUp(p, []).networks, ['default']);
});

test('resource and namespace keys reach HostConfig', () => {
  const p = loadProject({ cwd: project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    cpuset: "0,1"\n    cpu_period: 100000\n    cpu_quota: 50000\n    memswap_limit: -1\n    oom_score_adj: 100\n    group_add: [audio, 44]\n    dns_opt: [use-vc]\n    uts: host\n    userns_mode: host\n    mac_address: 02:42:ac:11:00:02\n    build:\n      context: .\n      tags: [x:1]\n' }), env: {} });
  const b = createBody(p, p.services.a, 1, {});
  assert.equal(b.HostConfig.CpusetCpus, '0,1');
  assert.equal(b.HostConfig.CpuQuota, 50000);
  assert.equal(b.HostConfig.CpuPeriod, 100000);
  assert.equal(b.HostConfig.MemorySwap, -1);
  assert.equal(b.HostConfig.OomScoreAdj, 100);
  assert.deepEqual(b.HostConfig.GroupAdd, ['audio', '44']);
  assert.deepEqual(b.HostConfig.DnsOptions, ['use-vc']);
  assert.equal(b.HostConfig.UTSMode, 'host');
  assert.equal((b.HostConfig as Record<string, unknown>).UsernsMode, 'host');
  assert.equal(b.MacAddress, '02:42:ac:11:00:02');
});
