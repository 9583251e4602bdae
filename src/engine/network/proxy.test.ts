import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { PortProxy } from './proxy.js';
import { Conflict } from '../../common/errors.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

describe('userland proxy', () => {
  it('forwards TCP and UDP to the target and holds the port against others', async () => {
    const echo = net.createServer((c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const udpEcho = dgram.createSocket('udp4');
    udpEcho.on('message', (m, r) => udpEcho.send(Buffer.from(String(m).toUpperCase()), r.port, r.address));
    await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', () => r()));
    const port = await freePort();
    const tcp = await PortProxy.open('tcp', '127.0.0.1', port, '127.0.0.1', (echo.address() as net.AddressInfo).port);
    const udp = await PortProxy.open('udp', '127.0.0.1', port, '127.0.0.1', udpEcho.address().port);
    try {
      const before = PortProxy.forwarded;
      const got = await new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.end('hello'));
        let s = '';
        c.setEncoding('utf8').on('data', (d) => { s += d; }).on('end', () => resolve(s)).on('error', reject);
      });
      assert.equal(got, 'hello');
      const reply = await new Promise<string>((resolve) => {
        const c = dgram.createSocket('udp4');
        c.on('message', (m) => { c.close(); resolve(String(m)); });
        c.send('ping', port, '127.0.0.1');
      });
      assert.equal(reply, 'PING');
      assert.equal(PortProxy.forwarded, before + 2);
      await assert.rejects(PortProxy.open('tcp', '0.0.0.0', port, '127.0.0.1', 1),
        (e: any) => e instanceof Conflict && e.message.endsWith(`listen tcp4 0.0.0.0:${port}: bind: address already in use`));
    } finally {
      tcp.close();
      udp.close();
      echo.close();
      udpEcho.close();
    }
    // Released: the port can be taken again.
    const again = await PortProxy.open('tcp', '127.0.0.1', port, '127.0.0.1', 1);
    again.close();
  });
});
