import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile, parseResolvConf, resolvConfFile } from './files.js';
import { linkEnv, parseLink } from './links.js';

describe('generated files', () => {
  it('writes /etc/hosts with localhost lines, links, --add-host (host-gateway) and the container itself', () => {
    const h = hostsFile({
      hostname: 'app', ips: ['172.17.0.5'], hostGateway: '172.17.0.1', extraHosts: ['db.local:10.1.1.1', 'host.docker.internal:host-gateway'],
      links: [{ alias: 'mysql_host', name: '/db', id: '1a2b3c4d5e6f7a8b9c', ip: '172.17.0.77' }],
    }).split('\n');
    assert.equal(h[0], '127.0.0.1\tlocalhost');
    assert.ok(h.includes('172.17.0.77\tmysql_host 1a2b3c4d5e6f db'));
    assert.ok(h.includes('10.1.1.1\tdb.local'));
    assert.ok(h.includes('172.17.0.1\thost.docker.internal'));
    assert.equal(h.at(-2), '172.17.0.5\tapp');
    assert.throws(() => hostsFile({ hostname: 'x', ips: [], extraHosts: ['nocolon'] }), /bad format for add-host/);
  });

  it('writes resolv.conf: host resolvers minus loopback, embedded DNS, or the flags', () => {
    const host = parseResolvConf('# c\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
    assert.equal(resolvConfFile({ host }), 'nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
    assert.equal(resolvConfFile({ host: parseResolvConf('nameserver 127.0.0.1\n') }), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    assert.match(resolvConfFile({ host, embeddedDns: '172.18.0.1' }), /^nameserver 172\.18\.0\.1\n/);
    assert.equal(resolvConfFile({ host, dns: ['1.1.1.1'], dnsSearch: ['a.example'], dnsOptions: ['ndots:2'] }), 'nameserver 1.1.1.1\nsearch a.example\noptions ndots:2\n');
  });

  it('produces the seed’s link variables', () => {
    const env = linkEnv({ alias: 'mysql_host', name: 'db', ip: '172.17.0.77', ports: ['3306/tcp'], env: ['MYSQL_ROOT_PASSWORD=x', 'PATH=/bin'], linkingName: 'app' });
    assert.deepEqual(env, [
      'MYSQL_HOST_PORT=tcp://172.17.0.77:3306',
      'MYSQL_HOST_PORT_3306_TCP=tcp://172.17.0.77:3306',
      'MYSQL_HOST_PORT_3306_TCP_ADDR=172.17.0.77',
      'MYSQL_HOST_PORT_3306_TCP_PORT=3306',
      'MYSQL_HOST_PORT_3306_TCP_PROTO=tcp',
      'MYSQL_HOST_NAME=/app/mysql_host',
      'MYSQL_HOST_ENV_MYSQL_ROOT_PASSWORD=x',
    ]);
    assert.deepEqual(parseLink('db:mysql_host'), { name: 'db', alias: 'mysql_host' });
    assert.deepEqual(parseLink('/db'), { name: 'db', alias: 'db' });
  });
});
