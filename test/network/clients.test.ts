import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import Docker from 'dockerode';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// Networking through clients nobody here wrote: the docker CLI and dockerode
// against a real daemon with real containers. The expected shapes are
// Docker's (checked against a Docker 20.10 daemon and the Engine API
// reference for the version the clients negotiate, 1.44+: user-network
// Aliases without the short ID, which moved to DNSNames).

const DOCKER = '/usr/local/bin/docker';
let d: TestDaemon;
let docker: Docker;

before(async () => {
  d = await startTestDaemon();
  docker = new Docker({ socketPath: d.socket });
});
after(async () => {
  for (const n of ['bncli-web', 'bncli-other', 'bnode-web']) await d?.api('DELETE', `/containers/${n}?force=1`).catch(() => undefined);
  for (const n of ['bncli-net', 'bnode-net']) await d?.api('DELETE', `/networks/${n}`).catch(() => undefined);
  await d?.cleanup();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(DOCKER, ['-H', d.host, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as any).code) || 1 : 0, stdout, stderr });
    });
  });
}
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function fetchPasswd(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/passwd', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}
async function served(port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 30; i++) {
    try { return await fetchPasswd(port); } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw last;
}

const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;
const mac = /^02:42(:[0-9a-f]{2}){4}$/;

describe('docker CLI', { skip: !existsSync(DOCKER) && 'no docker CLI here' }, () => {
  it('network create/ls/inspect/connect/disconnect/rm, run -p, port, inspect and ps', { timeout: 180_000 }, async () => {
    const netId = (await ok(['network', 'create', '--subnet', '10.213.7.0/24', '--gateway', '10.213.7.254', '--label', 'by=bncli', 'bncli-net'])).trim();
    assert.match(netId, /^[0-9a-f]{64}$/);
    const ls = await ok(['network', 'ls', '--filter', 'label=by=bncli', '--format', '{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}']);
    assert.equal(ls, `${netId.slice(0, 12)} bncli-net bridge local\n`);
    assert.equal(await ok(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bncli-net']), '10.213.7.0/24 10.213.7.254\n');

    await ok(['run', '-d', '--name', 'bncli-web', '-p', '127.0.0.1::80', '-p', '8080/udp', '--expose', '90', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const ports = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'bncli-web']));
    const tcpPort = Number(ports['80/tcp'][0].HostPort);
    const udpPort = Number(ports['8080/udp'][0].HostPort);
    assert.deepEqual(ports, {
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(tcpPort) }],
      '8080/udp': [{ HostIp: '0.0.0.0', HostPort: String(udpPort) }],
      '90/tcp': null,
    });
    assert.match(await served(tcpPort), /^root:x:0:0:/);
    assert.equal(await ok(['port', 'bncli-web', '80']), `127.0.0.1:${tcpPort}\n`);
    assert.equal(await ok(['port', 'bncli-web']), `80/tcp -> 127.0.0.1:${tcpPort}\n8080/udp -> 0.0.0.0:${udpPort}\n`);
    assert.equal(await ok(['ps', '--filter', 'name=bncli-web', '--format', '{{.Ports}}']),
      `90/tcp, 127.0.0.1:${tcpPort}->80/tcp, 0.0.0.0:${udpPort}->8080/udp\n`);

    await ok(['network', 'connect', '--alias', 'www', '--ip', '10.213.7.9', 'bncli-net', 'bncli-web']);
    const ns = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings}}', 'bncli-web']));
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'bncli-web'])).trim();
    const br = ns.Networks.bridge;
    assert.match(br.IPAddress, ipv4);
    assert.match(br.Gateway, ipv4);
    assert.match(br.MacAddress, mac);
    assert.equal(br.Aliases, null);
    assert.equal(ns.IPAddress, br.IPAddress, 'top-level fields mirror the default bridge');
    assert.equal(ns.Gateway, br.Gateway);
    assert.equal(ns.MacAddress, br.MacAddress);
    assert.match(ns.SandboxKey, /^\/run\/netns\//);
    const user = ns.Networks['bncli-net'];
    assert.equal(user.NetworkID, netId);
    assert.equal(user.IPAddress, '10.213.7.9');
    assert.equal(user.IPPrefixLen, 24);
    assert.equal(user.Gateway, '10.213.7.254');
    assert.equal(user.MacAddress, '02:42:0a:d5:07:09');
    assert.deepEqual(user.Aliases, ['www']);
    assert.deepEqual(user.DNSNames, ['bncli-web', 'www', id.slice(0, 12)]);
    assert.match(user.EndpointID, /^[0-9a-f]{64}$/);
    const members = JSON.parse(await ok(['network', 'inspect', '-f', '{{json .Containers}}', 'bncli-net']));
    assert.deepEqual(members[id], { Name: 'bncli-web', EndpointID: user.EndpointID, MacAddress: user.MacAddress, IPv4Address: '10.213.7.9/24', IPv6Address: '' });

    // The alias answers on the user network, through the embedded DNS.
    const ping = await cli(['run', '--rm', '--network', 'bncli-net', 'busybox', 'ping', '-c', '1', 'www']);
    assert.match(ping.stdout, /PING www \(10\.213\.7\.9\)/, ping.stderr);

    const busy = await cli(['network', 'rm', 'bncli-net']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /error while removing network: network bncli-net id [0-9a-f]{64} has active endpoints/);
    await ok(['network', 'disconnect', 'bncli-net', 'bncli-web']);
    assert.equal(await ok(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'bncli-web']), 'bridge \n');
    const again = await cli(['network', 'disconnect', 'bncli-net', 'bncli-web']);
    assert.notEqual(again.code, 0);
    assert.equal(await ok(['network', 'rm', 'bncli-net']), 'bncli-net\n');
    const gone = await cli(['network', 'inspect', 'bncli-net']);
    assert.match(gone.stderr, /network bncli-net not found/);

    // A second container cannot take the same host port; nothing of it is left running.
    const clash = await cli(['run', '-d', '--name', 'bncli-other', '-p', `127.0.0.1:${tcpPort}:80`, 'busybox', 'sleep', '100']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, new RegExp(`127\\.0\\.0\\.1:${tcpPort}.*(already allocated|address already in use)`));
    assert.match(await served(tcpPort), /^root:x:0:0:/);
    await ok(['rm', '-f', 'bncli-web', 'bncli-other']);
  });
});

describe('dockerode', () => {
  it('creates a network, runs a published container, connects, lists ports and cleans up', { timeout: 180_000 }, async () => {
    const net = await docker.createNetwork({ Name: 'bnode-net', IPAM: { Driver: 'default', Config: [{ Subnet: '10.213.8.0/24' }] } } as any);
    const c = await docker.createContainer({
      name: 'bnode-web', Image: 'busybox', Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], ExposedPorts: { '80/tcp': {} },
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    await c.start();
    const info = await c.inspect();
    const port = Number(info.NetworkSettings.Ports['80/tcp'][0].HostPort);
    assert.ok(port > 0);
    assert.match(await served(port), /^root:x:0:0:/);
    const listed = (await docker.listContainers({ filters: JSON.stringify({ name: ['bnode-web'] }) }))[0];
    assert.deepEqual(listed.Ports, [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: port, Type: 'tcp' }]);
    assert.equal(listed.HostConfig.NetworkMode, 'default');
    assert.match(listed.NetworkSettings.Networks.bridge.IPAddress, ipv4);

    await net.connect({ Container: 'bnode-web', EndpointConfig: { Aliases: ['api'] } });
    const after = await c.inspect();
    const ep = after.NetworkSettings.Networks['bnode-net'];
    assert.match(ep.IPAddress, /^10\.213\.8\.\d+$/);
    assert.equal(ep.Gateway, '10.213.8.1');
    assert.deepEqual(ep.Aliases, ['api']);
    assert.equal((await net.inspect()).Containers?.[info.Id]?.Name, 'bnode-web');
    await net.disconnect({ Container: 'bnode-web' });
    assert.deepEqual(Object.keys((await c.inspect()).NetworkSettings.Networks), ['bridge']);
    await c.remove({ force: true });
    await net.remove();
    await assert.rejects(net.inspect(), (e: any) => e.statusCode === 404);
    await assert.rejects(fetchPasswd(port), /ECONNREFUSED/);
  });
});
