import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The seed's "Links" and "Port" sections, and user networks, through berthd.
let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(async () => {
  d?.berth(['rm', '-f', 'netweb', 'netdb', 'alpha', 'beta']);
  await d?.api('DELETE', '/networks/bt-int-net');
  await d?.cleanup();
});

function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('a published port serves busybox httpd on 127.0.0.1; ps shows it', async () => {
  const r = d.berth(['run', '-d', '--name', 'netweb', '-p', '127.0.0.1::80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(r.code, 0, r.stderr);
  const port = Number((await d.api('GET', '/containers/netweb/json')).body.NetworkSettings.Ports['80/tcp'][0].HostPort);
  assert.ok(port > 0);
  let res = { status: 0, body: '' };
  for (let i = 0; i < 20 && res.status !== 200; i++) {
    res = await get(port, '/passwd').catch(() => res);
    if (res.status !== 200) await new Promise((r2) => setTimeout(r2, 100));
  }
  assert.equal(res.status, 200);
  assert.match(res.body, /^root:x:0:0:/);
  assert.match(d.berth(['ps', '--filter', 'name=netweb']).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp`));
});

test('--link gives the seed\'s variables and a hosts entry', () => {
  assert.equal(d.berth(['run', '-d', '--name', 'netdb', '--expose', '3306', 'busybox', 'sleep', '1000']).code, 0);
  const ip = d.berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'netdb']).stdout.trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const env = d.berth(['run', '--rm', '--link', 'netdb:mysql_host', 'busybox', 'env']).stdout;
  for (const line of [`MYSQL_HOST_PORT=tcp://${ip}:3306`, `MYSQL_HOST_PORT_3306_TCP=tcp://${ip}:3306`, `MYSQL_HOST_PORT_3306_TCP_ADDR=${ip}`,
    'MYSQL_HOST_PORT_3306_TCP_PORT=3306', 'MYSQL_HOST_PORT_3306_TCP_PROTO=tcp']) assert.ok(env.includes(line + '\n'), `${line} in\n${env}`);
  const ping = d.berth(['run', '--rm', '--link', 'netdb:mysql_host', 'busybox', 'ping', '-c', '1', 'mysql_host']);
  assert.match(ping.stdout, new RegExp(`PING mysql_host \\(${ip.replace(/\./g, '\\.')}\\)`), ping.stderr);
  assert.match(ping.stdout, /1 packets received/);
});

test('containers on a user network reach each other by name and alias', async () => {
  const mk = await d.api('POST', '/networks/create', { Name: 'bt-int-net' });
  assert.equal(mk.status, 201, mk.text);
  assert.equal(d.berth(['run', '-d', '--name', 'alpha', '--network', 'bt-int-net', '--network-alias', 'first', 'busybox', 'sleep', '1000']).code, 0);
  const byName = d.berth(['run', '--rm', '--network', 'bt-int-net', 'busybox', 'ping', '-c', '1', 'alpha']);
  assert.match(byName.stdout, /1 packets received/, byName.stderr);
  const byAlias = d.berth(['run', '--rm', '--network', 'bt-int-net', 'busybox', 'ping', '-c', '1', 'first']);
  assert.match(byAlias.stdout, /1 packets received/, byAlias.stderr);
  const unknown = d.berth(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /network nosuchnet not found/);
});

test('--network none has only loopback, and it is up', () => {
  const r = d.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ip -o link | cut -d: -f2; ping -c1 127.0.0.1 >/dev/null && echo lo-ok']);
  assert.equal(r.stdout.replace(/ /g, ''), 'lo\nlo-ok\n', r.stderr);
});

// The interfaces come up while runc creates the container (see
// setupContainerNetwork's `ready`): the process itself must still find them
// up, addressed and routed from its first instruction, on the pooled
// (pre-wired) path as on a fresh namespace, and net.* sysctls naming eth0
// must find eth0 when runc writes them.
test('the first command of a container sees eth0 up with its address and default route', () => {
  for (let i = 0; i < 4; i++) {
    const r = d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 addr show dev eth0; ip route']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /state UP|,UP/, r.stdout);
    assert.match(r.stdout, /inet \d+\.\d+\.\d+\.\d+\/\d+/, r.stdout);
    assert.match(r.stdout, /default via \d+\.\d+\.\d+\.\d+ dev eth0/, r.stdout);
  }
  const s = d.berth(['run', '--rm', '--sysctl', 'net.ipv4.conf.eth0.accept_redirects=0', 'busybox', 'cat', '/proc/sys/net/ipv4/conf/eth0/accept_redirects']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout.trim(), '0');
});
