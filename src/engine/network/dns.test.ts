import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { NetworkDns } from './dns.js';

function queryUdp(port: number, name: string, type: 'A' | 'AAAA' = 'A'): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('timeout')); }, 3000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(dnsPacket.decode(m)); });
    s.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), port, '127.0.0.1');
  });
}

function queryTcp(port: number, name: string): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const q = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name }] });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    s.write(Buffer.concat([len, q]));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { s.destroy(); resolve(dnsPacket.decode(buf.subarray(2))); }
    });
    s.on('error', reject);
  });
}

const rcode = (p: dnsPacket.Packet) => (p.flags ?? 0) & 15;

describe('embedded DNS', () => {
  const upstream = dgram.createSocket('udp4');
  const dns = new NetworkDns({ upstreams: [], networkName: 'mynet', timeoutMs: 500 });
  after(async () => { await dns.close(); upstream.close(); });

  it('answers names, aliases and short IDs over UDP and TCP; NXDOMAIN for unknown single labels; forwards the rest', async () => {
    upstream.on('message', (m, r) => {
      const q = dnsPacket.decode(m);
      upstream.send(dnsPacket.encode({ id: q.id, type: 'response', questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, data: '198.51.100.7' }] }), r.port, r.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    dns.setUpstreams([`127.0.0.1:${upstream.address().port}`]);
    const port = await dns.listen('127.0.0.1');
    dns.set('c'.repeat(64), ['web', 'www', 'cccccccccccc'], '172.18.0.2');
    dns.set('d'.repeat(64), ['worker', 'www'], '172.18.0.3');
    for (const name of ['web', 'WWW', 'cccccccccccc', 'web.mynet']) {
      const r = await queryUdp(port, name);
      assert.equal(rcode(r), 0);
      assert.ok(r.answers!.some((a: any) => a.data === '172.18.0.2'), name);
    }
    assert.deepEqual((await queryUdp(port, 'www')).answers!.map((a: any) => a.data).sort(), ['172.18.0.2', '172.18.0.3']);
    assert.equal((await queryTcp(port, 'worker')).answers!.map((a: any) => a.data)[0], '172.18.0.3');
    const aaaa = await queryUdp(port, 'web', 'AAAA');
    assert.equal(rcode(aaaa), 0);
    assert.equal(aaaa.answers!.length, 0);
    assert.equal(rcode(await queryUdp(port, 'nosuch')), 3);
    assert.equal((await queryUdp(port, 'example.org')).answers!.map((a: any) => a.data)[0], '198.51.100.7');
    dns.remove('c'.repeat(64));
    assert.equal(rcode(await queryUdp(port, 'web')), 3);
  });
});
