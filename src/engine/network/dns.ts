import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { log } from '../../common/log.js';

/**
 * The embedded DNS server of one user network: answers A queries for the
 * names, aliases and short IDs of the containers on that network, and
 * forwards everything else to the host's resolvers. UDP and TCP on the same
 * address and port (the firewall redirects the gateway's port 53 to it, so a
 * host resolver already holding port 53 is no obstacle).
 *
 *   const dns = new NetworkDns({ upstreams: ['10.0.0.53'] });
 *   const port = await dns.listen('172.18.0.1');
 *   dns.set('c0ffee...', ['web', 'www', 'c0ffee123456'], '172.18.0.2');
 *   dns.remove('c0ffee...');
 *   await dns.close();
 */
export interface DnsOptions {
  /** Resolvers for names this network does not know (host's, minus loopback). */
  upstreams: string[];
  /** The network's name: `web.mynet` resolves as `web` does. */
  networkName?: string;
  /** Upstream timeout in ms. */
  timeoutMs?: number;
}

export class NetworkDns {
  private records = new Map<string, { names: string[]; ip: string }>();
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private tcpConns = new Set<net.Socket>();

  constructor(private opts: DnsOptions) {}

  /** Binds UDP and TCP on `address`, on `port` (0 = the same free port for both). Returns the port. */
  async listen(address: string, port = 0): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: 'udp4' });
      udp.on('message', (msg, rinfo) => void this.onUdp(udp, msg, rinfo));
      udp.on('error', (e) => log.warn('dns', 'udp socket error', { error: e.message }));
      await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind(port, address, () => { udp.off('error', rej); res(); }); });
      const p = udp.address().port;
      const tcp = net.createServer((s) => this.onTcp(s));
      try {
        await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen(p, address, () => { tcp.off('error', rej); res(); }); });
      } catch (e) {
        udp.close();
        if (port !== 0 || attempt > 5) throw e;
        continue; // the TCP twin of a random UDP port was taken: try another
      }
      udp.unref();
      tcp.unref();
      this.udp = udp;
      this.tcp = tcp;
      return p;
    }
  }

  /** Registers (or replaces) a container's names on this network. */
  set(containerId: string, names: string[], ip: string): void {
    this.records.set(containerId, { names: names.map((n) => n.toLowerCase()), ip });
  }

  remove(containerId: string): void {
    this.records.delete(containerId);
  }

  /** The addresses a name resolves to on this network (several containers may share an alias). */
  lookup(name: string): string[] {
    let n = name.toLowerCase().replace(/\.$/, '');
    if (this.opts.networkName && n.endsWith('.' + this.opts.networkName.toLowerCase())) n = n.slice(0, -this.opts.networkName.length - 1);
    const out: string[] = [];
    for (const r of this.records.values()) if (r.names.includes(n) && !out.includes(r.ip)) out.push(r.ip);
    return out;
  }

  setUpstreams(upstreams: string[]): void {
    this.opts.upstreams = upstreams;
  }

  async close(): Promise<void> {
    for (const s of this.tcpConns) s.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }

  /** Builds the answer for a query, or undefined when it must be forwarded. */
  answer(query: Buffer): Buffer | undefined {
    let q: dnsPacket.Packet;
    try { q = dnsPacket.decode(query); } catch { return undefined; }
    const question = q.questions?.[0];
    if (!question) return undefined;
    const ips = this.lookup(question.name);
    const bare = !question.name.replace(/\.$/, '').includes('.');
    if (ips.length === 0 && !bare) return undefined;
    const base = { id: q.id, type: 'response' as const, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions };
    if (ips.length === 0) {
      // A single-label name nobody on this network has: no upstream could know it better.
      return dnsPacket.encode({ ...base, flags: base.flags | 3 /* NXDOMAIN */, answers: [] } as any);
    }
    const answers = question.type === 'A'
      ? ips.map((ip) => ({ type: 'A' as const, name: question.name, ttl: 600, class: 'IN' as const, data: ip }))
      : []; // the name exists, with no records of this type (AAAA and friends): NOERROR, empty
    return dnsPacket.encode({ ...base, flags: base.flags | dnsPacket.AUTHORITATIVE_ANSWER, answers } as any);
  }

  private async onUdp(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const reply = this.answer(msg) ?? (await this.forwardUdp(msg)) ?? servfail(msg);
    if (reply) sock.send(reply, rinfo.port, rinfo.address);
  }

  private onTcp(s: net.Socket): void {
    this.tcpConns.add(s);
    s.on('close', () => this.tcpConns.delete(s));
    s.on('error', () => s.destroy());
    s.setTimeout(10_000, () => s.destroy());
    let buf = Buffer.alloc(0);
    s.on('data', async (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const reply = this.answer(msg) ?? (await this.forwardTcp(msg)) ?? servfail(msg);
        if (reply && !s.destroyed) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          s.write(Buffer.concat([len, reply]));
        }
      }
    });
  }

  private async forwardUdp(msg: Buffer): Promise<Buffer | undefined> {
    for (const server of this.opts.upstreams) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const sock = dgram.createSocket('udp4');
        const done = (b?: Buffer) => { clearTimeout(t); sock.close(); resolve(b); };
        const t = setTimeout(() => done(), this.opts.timeoutMs ?? 2000);
        sock.on('error', () => done());
        sock.on('message', (b) => { if (b.length >= 2 && b.readUInt16BE(0) === msg.readUInt16BE(0)) done(b); });
        const [host, port] = splitHostPort(server);
        sock.send(msg, port, host);
      });
      if (reply) return reply;
    }
    return undefined;
  }

  private async forwardTcp(msg: Buffer): Promise<Buffer | undefined> {
    for (const server of this.opts.upstreams) {
      const [host, port] = splitHostPort(server);
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const s = net.connect(port, host);
        let buf = Buffer.alloc(0);
        const done = (b?: Buffer) => { s.destroy(); resolve(b); };
        s.setTimeout(this.opts.timeoutMs ?? 2000, () => done());
        s.on('error', () => done());
        s.on('connect', () => { const len = Buffer.alloc(2); len.writeUInt16BE(msg.length); s.write(Buffer.concat([len, msg])); });
        s.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        });
      });
      if (reply) return reply;
    }
    return undefined;
  }
}

/** `ip` or `ip:port` (tests point upstreams at a local server on a high port). */
function splitHostPort(s: string): [string, number] {
  const m = /^([\d.]+):(\d+)$/.exec(s);
  return m ? [m[1], Number(m[2])] : [s, 53];
}

function servfail(msg: Buffer): Buffer | undefined {
  try {
    const q = dnsPacket.decode(msg);
    return dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2, questions: q.questions, answers: [] } as any);
  } catch {
    return undefined;
  }
}
