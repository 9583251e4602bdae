import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NetworkService } from '../src/engine/network/service.js';
import { PortProxy } from '../src/engine/network/proxy.js';

/**
 * `node dist/bench/network.js [--rounds N] [--mb M]` (root)
 *
 * The network service alone, on its own bridge, table and namespaces:
 * 1. set-up + tear-down per container on `bridge` and on `none` (median, ms),
 *    and the bridge's extra cost;
 * 2. TCP throughput from the host to a sink in a container: direct to its
 *    address, through a published port (DNAT on 127.0.0.1), and through the
 *    userland proxy.
 */
const args = process.argv.slice(2);
const opt = (n: string, d: number) => { const i = args.indexOf(n); return i >= 0 ? Number(args[i + 1]) : d; };
const rounds = opt('--rounds', 200);
const mb = opt('--mb', 512);

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function cycle(svc: NetworkService, mode: 'bridge' | 'none'): Promise<number> {
  const id = randomBytes(32).toString('hex');
  const t = performance.now();
  await svc.createNetns(id);
  if (mode === 'bridge') await svc.connect(id, { network: 'bridge', name: id.slice(0, 12) });
  await svc.ready(id);
  await svc.releaseContainer(id);
  return performance.now() - t;
}

/** Sends `mb` MiB to host:port and returns MiB/s (the sink closes when it has read everything). */
function throughput(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const s = net.connect(port, host);
    const t = performance.now();
    let sent = 0;
    s.on('error', reject);
    s.on('close', () => resolve(mb / ((performance.now() - t) / 1000)));
    s.on('connect', function pump() {
      while (sent < mb) {
        sent++;
        if (!s.write(chunk)) { s.once('drain', pump); return; }
      }
      s.end();
    });
  });
}

async function main(): Promise<void> {
  const sfx = randomBytes(3).toString('hex');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-netbench-'));
  const svc = await NetworkService.open({ root, instance: `b${sfx}`, defaultBridge: `bb${sfx}`, addressPools: [{ base: '10.0.0.0/8', size: 24 }], dnsUpstreams: [] });
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < 10; i++) { await cycle(svc, 'bridge'); await cycle(svc, 'none'); } // warm-up
    const b: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < rounds; i++) { b.push(await cycle(svc, 'bridge')); n.push(await cycle(svc, 'none')); }
    console.log(`set-up + tear-down per container (median of ${rounds}): bridge ${median(b).toFixed(1)} ms, none ${median(n).toFixed(1)} ms, bridge extra ${(median(b) - median(n)).toFixed(1)} ms`);

    // Container starts are spaced by the runtime's own ~150 ms: then the warm pool is full at each start.
    const sb: number[] = [];
    const sn: number[] = [];
    for (let i = 0; i < Math.min(rounds, 50); i++) {
      await new Promise((r) => setTimeout(r, 60));
      sb.push(await cycle(svc, 'bridge'));
      await new Promise((r) => setTimeout(r, 60));
      sn.push(await cycle(svc, 'none'));
    }
    console.log(`same, spaced 60 ms apart (warm pool):            bridge ${median(sb).toFixed(1)} ms, none ${median(sn).toFixed(1)} ms, bridge extra ${(median(sb) - median(sn)).toFixed(1)} ms`);

    const id = randomBytes(32).toString('hex');
    const nsPath = await svc.createNetns(id, 'sink');
    const ep = await svc.connect(id, { network: 'bridge', name: 'sink' });
    // A sink that reads everything, one connection after another.
    const sink = spawn('nsenter', [`--net=${nsPath}`, process.execPath, '-e',
      `require('net').createServer((c)=>{c.on('data',()=>{});c.on('end',()=>c.end())}).listen(9000)`], { stdio: 'ignore' });
    procs.push(sink);
    await svc.publish(id, { PortBindings: { '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } });
    const hp = Number((svc.networkSettings(id) as any).Ports['9000/tcp'][0].HostPort);
    for (let i = 0; i < 50; i++) {
      const ok = await new Promise<boolean>((r) => { const s = net.connect(9000, ep!.IPAddress, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const proxy = await PortProxy.open('tcp', '127.0.0.1', hp + 1, ep!.IPAddress, 9000).catch(() => undefined);
    const rows: [string, number][] = [];
    // Best of three: the first transfer pays for slow start and cold caches.
    const best = async (h: string, p: number) => Math.max(await throughput(h, p), await throughput(h, p), await throughput(h, p));
    rows.push(['direct to container address', await best(ep!.IPAddress, 9000)]);
    rows.push(['published port, DNAT (127.0.0.1)', await best('127.0.0.1', hp)]);
    if (proxy) rows.push(['userland proxy (127.0.0.1)', await best('127.0.0.1', hp + 1)]);
    proxy?.close();
    for (const [k, v] of rows) console.log(`${k.padEnd(36)} ${v.toFixed(0)} MiB/s (${(100 * v / rows[0][1]).toFixed(0)}% of direct)`);
    await svc.releaseContainer(id);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await svc.destroy();
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
