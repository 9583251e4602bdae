import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import Docker from 'dockerode';
import { Router } from '../../src/api/router.js';
import { createApiServer, listen } from '../../src/api/server.js';
import { registerNetworkRoutes, type NetworkContainerLookup } from '../../src/api/routes/networks.js';
import { NetworkService } from '../../src/engine/network/service.js';
import { NotFound } from '../../src/common/errors.js';

// The /networks endpoints through real clients: dockerode and (when present)
// the docker CLI, against a service on real bridges named after this run.

const sfx = randomBytes(3).toString('hex');
let root: string;
let svc: NetworkService;
let server: http.Server;
let sock: string;
let docker: Docker;
/** Stand-in "containers": just a name and a namespace from the service, which is all networking needs. */
const ctrs = new Map<string, { id: string; name: string }>();

const lookup: NetworkContainerLookup = {
  async resolve(ref) {
    const c = ctrs.get(ref) ?? [...ctrs.values()].find((x) => x.id === ref);
    if (!c) throw new NotFound(`No such container: ${ref}`);
    return { ...c, running: true };
  },
};

function dockerCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('/usr/local/bin/docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', timeout: 15000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as any).code ?? 1 : 0, out: stdout + stderr });
    });
  });
}

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-netapi-'));
  svc = await NetworkService.open({ root: path.join(root, 'state'), instance: `a${sfx}`, defaultBridge: `ba${sfx}`, addressPools: [{ base: '10.0.0.0/8', size: 24 }], dnsUpstreams: [] });
  const r = new Router();
  r.get('/_ping', (c) => { c.res.writeHead(200, { 'Content-Type': 'text/plain' }); c.res.end('OK'); });
  registerNetworkRoutes(r, svc, lookup);
  server = createApiServer(r);
  sock = path.join(root, 'api.sock');
  await listen(server, `unix://${sock}`);
  docker = new Docker({ socketPath: sock });
});

after(async () => {
  server?.close();
  await svc?.destroy();
  await fs.rm(root, { recursive: true, force: true });
});

describe('/networks API', () => {
  it('creates, lists, inspects, connects, disconnects, removes and prunes through dockerode', async () => {
    const created = await docker.createNetwork({ Name: `api${sfx}`, Labels: { run: sfx }, IPAM: { Driver: 'default', Config: [{ Subnet: '10.251.7.0/24', Gateway: '10.251.7.254' }] } } as any);
    const info = await created.inspect();
    assert.equal(info.Name, `api${sfx}`);
    assert.deepEqual(info.IPAM!.Config, [{ Subnet: '10.251.7.0/24', Gateway: '10.251.7.254' }]);
    const names = (await docker.listNetworks()).map((n) => n.Name);
    for (const n of ['bridge', 'host', 'none', `api${sfx}`]) assert.ok(names.includes(n), n);
    assert.deepEqual((await docker.listNetworks({ filters: JSON.stringify({ label: [`run=${sfx}`] }) })).map((n) => n.Name), [`api${sfx}`]);

    const id = randomBytes(32).toString('hex');
    await svc.createNetns(id, 'web');
    ctrs.set('web', { id, name: 'web' });
    await created.connect({ Container: 'web', EndpointConfig: { Aliases: ['www'], IPAMConfig: { IPv4Address: '10.251.7.9' } } });
    const after = await created.inspect();
    assert.equal(after.Containers![id].IPv4Address, '10.251.7.9/24');
    const settings = svc.networkSettings(id) as any;
    assert.deepEqual(settings.Networks[`api${sfx}`].Aliases, ['www']);
    assert.equal(settings.Networks[`api${sfx}`].Gateway, '10.251.7.254');

    await assert.rejects(created.remove(), (e: any) => e.statusCode === 409 && /has active endpoints/.test(e.json?.message ?? e.message));
    await created.disconnect({ Container: 'web' });
    assert.deepEqual((await created.inspect()).Containers, {});
    await svc.releaseContainer(id);
    await created.remove();
    await assert.rejects(created.inspect(), (e: any) => e.statusCode === 404 && e.json.message === `network ${created.id} not found`);

    await docker.createNetwork({ Name: `prune${sfx}` });
    const pruned = await docker.pruneNetworks();
    assert.deepEqual(pruned.NetworksDeleted, [`prune${sfx}`]);
  });

  it('answers errors with Docker statuses and messages', async () => {
    await assert.rejects(docker.createNetwork({ Name: `bad${sfx}`, IPAM: { Config: [{ Subnet: '10.1.1/24' }] } } as any),
      (e: any) => e.statusCode === 400 && e.json.message === 'invalid CIDR address: 10.1.1/24');
    await assert.rejects(docker.createNetwork({ Name: 'bridge' }), (e: any) => e.statusCode === 409);
    await assert.rejects(docker.getNetwork('nope').inspect(), (e: any) => e.statusCode === 404 && e.json.message === 'network nope not found');
    await assert.rejects(docker.createNetwork({ Name: `drv${sfx}`, Driver: 'overlay' }), (e: any) => e.statusCode === 404 && /plugin "overlay" not found/.test(e.json.message));
    await assert.rejects(docker.getNetwork('host').remove(), (e: any) => e.statusCode === 409 && /pre-defined/.test(e.json.message));
  });

  it('serves the docker CLI: network create, ls, inspect, rm', async (t) => {
    if (!(await fs.access('/usr/local/bin/docker').then(() => true, () => false))) return t.skip('no docker CLI');
    const mk = await dockerCli(['network', 'create', '--subnet', '10.251.9.0/24', '--label', `run=${sfx}`, `cli${sfx}`]);
    assert.equal(mk.code, 0, mk.out);
    const ls = await dockerCli(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
    assert.match(ls.out, new RegExp(`^cli${sfx} bridge$`, 'm'));
    const insp = await dockerCli(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', `cli${sfx}`]);
    assert.equal(insp.out.trim(), '10.251.9.0/24');
    const dup = await dockerCli(['network', 'create', '--subnet', '10.251.9.0/25', `dup${sfx}`]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.out, /Pool overlaps/);
    assert.equal((await dockerCli(['network', 'rm', `cli${sfx}`])).code, 0);
    assert.match((await dockerCli(['network', 'inspect', `cli${sfx}`])).out, /not found/);
  });
});
