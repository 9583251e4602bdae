import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { Conflict } from '../../common/errors.js';

/**
 * A userland port forwarder. It holds the host port (so no other process can
 * take a published port, and a port already in use is detected before any rule
 * changes) and forwards whatever reaches it to the container: with DNAT in
 * place that is only traffic DNAT cannot see (e.g. IPv6 `::1`), without DNAT
 * it carries everything.
 *
 *   const p = await PortProxy.open('tcp', '0.0.0.0', 8080, '172.17.0.2', 80);
 *   p.close();
 */
export class PortProxy {
  /** Connections and UDP flows carried so far, process-wide: shows whether traffic took the proxy or DNAT. */
  static forwarded = 0;
  private conns = new Set<net.Socket>();
  private udpFlows = new Map<string, { sock: dgram.Socket; timer: NodeJS.Timeout }>();

  private constructor(readonly proto: 'tcp' | 'udp', private tcp?: net.Server, private udp?: dgram.Socket, private target?: { ip: string; port: number }) {}

  /** Binds the host port; throws Conflict with Docker's wording when it is taken. */
  static async open(proto: 'tcp' | 'udp', hostIp: string, hostPort: number, targetIp: string, targetPort: number): Promise<PortProxy> {
    const addr = hostIp || '0.0.0.0';
    const target = { ip: targetIp, port: targetPort };
    try {
      if (proto === 'tcp') {
        const srv = net.createServer({ allowHalfOpen: true });
        const p = new PortProxy('tcp', srv, undefined, target);
        srv.on('connection', (c) => p.forwardTcp(c));
        await new Promise<void>((res, rej) => { srv.once('error', rej); srv.listen({ port: hostPort, host: addr, exclusive: true }, () => { srv.off('error', rej); res(); }); });
        srv.on('error', () => {});
        srv.unref();
        return p;
      }
      const sock = dgram.createSocket({ type: 'udp4' });
      const p = new PortProxy('udp', undefined, sock, target);
      await new Promise<void>((res, rej) => { sock.once('error', rej); sock.bind({ port: hostPort, address: addr, exclusive: true }, () => { sock.off('error', rej); res(); }); });
      sock.on('error', () => {});
      sock.on('message', (m, r) => p.forwardUdp(m, r));
      sock.unref();
      return p;
    } catch (e: any) {
      if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
        throw new Conflict(`driver failed programming external connectivity: Error starting userland proxy: listen ${proto}4 ${addr}:${hostPort}: bind: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : 'cannot assign requested address'}`);
      }
      throw e;
    }
  }

  close(): void {
    for (const c of this.conns) c.destroy();
    for (const f of this.udpFlows.values()) { clearTimeout(f.timer); f.sock.close(); }
    this.udpFlows.clear();
    this.tcp?.close();
    try { this.udp?.close(); } catch { /* already closed */ }
  }

  private forwardTcp(client: net.Socket): void {
    PortProxy.forwarded++;
    // Half-open both ways: a client that sends and shuts down its side must still get the reply.
    const up = net.connect({ port: this.target!.port, host: this.target!.ip, allowHalfOpen: true });
    this.conns.add(client).add(up);
    const fail = () => { client.destroy(); up.destroy(); };
    client.on('error', fail);
    up.on('error', fail);
    client.on('close', () => { this.conns.delete(client); up.end(); });
    up.on('close', () => { this.conns.delete(up); client.end(); });
    client.pipe(up);
    up.pipe(client);
  }

  private forwardUdp(msg: Buffer, from: dgram.RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let flow = this.udpFlows.get(key);
    if (!flow) {
      PortProxy.forwarded++;
      const sock = dgram.createSocket('udp4');
      sock.on('message', (reply) => { this.udp?.send(reply, from.port, from.address); this.touch(key); });
      sock.on('error', () => {});
      flow = { sock, timer: setTimeout(() => {}, 0) };
      this.udpFlows.set(key, flow);
    }
    this.touch(key);
    flow.sock.send(msg, this.target!.port, this.target!.ip);
  }

  private touch(key: string): void {
    const f = this.udpFlows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.timer = setTimeout(() => { f.sock.close(); this.udpFlows.delete(key); }, 30_000);
    f.timer.unref();
  }
}
