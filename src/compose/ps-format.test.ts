import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, legacyCommand, portsText, psTableV1, psTableV2, stateV1 } from './ps-format.js';
import type { ContainerSummary } from './engine.js';

function c(name: string, command: string, state: string, status: string, ports: ContainerSummary['Ports'] = []): ContainerSummary {
  return { Id: name, Names: [`/${name}`], Image: 'img', Command: command, Created: 1000, State: state, Status: status, Ports: ports,
    Labels: { 'com.docker.compose.service': name.split('_')[1] ?? '' } };
}

test('the fig-style table matches docker-compose 1.29 (texttable) byte for byte', () => {
  const out = psTableV1([
    c('project_web_1', '/usr/local/bin/run', 'running', 'Up 2 minutes', [{ PrivatePort: 80, Type: 'tcp' }]),
    c('project_db_1', '/usr/sbin/mysqld --skip-name-resolve', 'running', 'Up 2 minutes', [{ PrivatePort: 3306, Type: 'tcp' }]),
  ]);
  // Produced by python3-texttable 1.6.7 with docker-compose's settings.
  assert.equal(out, [
    '    Name                   Command               State    Ports  ',
    '-----------------------------------------------------------------',
    'project_web_1   /usr/local/bin/run               Up      80/tcp  ',
    'project_db_1    /usr/sbin/mysqld --skip-na ...   Up      3306/tcp',
    '',
  ].join('\n'));
});

test('states and ports as docker-compose shows them', () => {
  assert.equal(stateV1(c('a', '', 'exited', 'Exited (137) 5 seconds ago')), 'Exit 137');
  assert.equal(stateV1(c('a', '', 'running', 'Up 5 seconds (healthy)')), 'Up (healthy)');
  assert.equal(stateV1(c('a', '', 'paused', 'Up 5 seconds (Paused)')), 'Paused');
  assert.equal(portsText(c('a', '', 'running', '', [{ PrivatePort: 443, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }])),
    '0.0.0.0:8080->80/tcp, 443/tcp');
});

test('the docker compose table', () => {
  const out = psTableV2([c('app-web-1', 'nginx -g daemon off; with a long tail', 'running', 'Up 3 seconds')], 1000_000 + 3_000);
  assert.equal(out, 'NAME        IMAGE   COMMAND                  SERVICE   CREATED         STATUS         PORTS\n'
    + 'app-web-1   img     "nginx -g daemon off…"             3 seconds ago   Up 3 seconds\n');
  assert.equal(humanDuration(0.5), 'Less than a second');
  assert.equal(humanDuration(90), 'About a minute');
  assert.equal(humanDuration(7200), '2 hours');
});

test('the fig-style Command is entrypoint and cmd joined, unquoted, as docker-compose 1.29 prints it', () => {
  assert.equal(legacyCommand({ Entrypoint: null, Cmd: ['sh', '-c', 'while true; do sleep 1; done'] }), 'sh -c while true; do sleep 1; done');
  assert.equal(legacyCommand({ Entrypoint: ['/entry.sh'], Cmd: ['run', 'a b'] }), '/entry.sh run a b');
  assert.equal(legacyCommand({ Entrypoint: '/bin/tini', Cmd: null }), '/bin/tini');
  assert.equal(legacyCommand({}), '');
});
