import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NetworkService } from '../../src/engine/network/service.js';
import { PortProxy } from '../../src/engine/network/proxy.js';
import type { BenchContext, WorkloadGroup } from '../context.js';
import type { Row } from '../harness.js';

/**
 * Networking's costs:
 * - `run --rm busybox true` on `bridge` and on `none` through the daemon
 *   (interleaved, so load drifts hit both alike); the bridge's extra cost is
 *   the difference of the medians;
 * - the same set-up + tear-down measured on the network service alone (no
 *   runtime, no CLI: far less noise, the figure to optimise);
 * - sending MiB through a published port on 127.0.0.1 by DNAT and by the
 *   userland proxy, against a direct connection to the container's address
 *   (the floor). The peer Docker runs with --iptables=false: its only path
 *   is docker-proxy.
 */
const MIB = 128;

/** Time (ms) to push MIB MiB to host:port until the sink has read it all and closed. */
function send(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const s = net.connect(port, host);
    const t = performance.now();
    let sent = 0;
    s.on('error', reject);
    s.on('close', () => resolve(performance.now() - t));
    s.on('connect', function pump() {
      while (sent < MIB) {
        sent++;
        if (!s.write(chunk)) { s.once('drain', pump); return; }
      }
      s.end();
    });
  });
}

async function sendRounds(n: number, host: string, port: number): Promise<number[]> {
  await send(host, port); // slow start and cold caches
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await send(host, port));
  return out;
}

/** A node sink on port 9000 inside a network namespace: reads everything, closes when the sender does. */
function startSink(netnsPath: string): ChildProcess {
  return spawn('nsenter', [`--net=${netnsPath}`, process.execPath, '-e',
    'require("net").createServer((c)=>{c.on("data",()=>{});c.on("end",()=>c.end())}).listen(9000)'], { stdio: 'ignore' });
}

async function reachable(host: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => { const s = net.connect(port, host, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sink ${host}:${port} never answered`);
}

async function startCost(ctx: BenchContext): Promise<Row[]> {
  const bridge: number[] = [], none: number[] = [], peerBridge: number[] = [], peerNone: number[] = [];
  for (let i = 0; i < ctx.rounds; i++) {
    bridge.push(ctx.berth(['run', '--rm', 'busybox', 'true']));
    none.push(ctx.berth(['run', '--rm', '--network', 'none', 'busybox', 'true']));
    if (ctx.peer) {
      peerBridge.push(ctx.docker(ctx.peer, ['run', '--rm', 'busybox', 'true']));
      peerNone.push(ctx.docker(ctx.peer, ['run', '--rm', '--network', 'none', 'busybox', 'true']));
    }
  }
  const p = ctx.peer !== undefined;
  return [
    { workload: 'run --rm busybox true (bridge)', berth: bridge, floor: none, peer: p ? peerBridge : undefined, note: 'floor: the same on --network none' },
    { workload: 'run --rm --network none busybox true', berth: none, peer: p ? peerNone : undefined },
  ];
}

/** Set-up and tear-down of one container's network on the service alone, as the container service drives it. */
async function serviceCost(ctx: BenchContext): Promise<Row[]> {
  const sfx = randomBytes(3).toString('hex');
  const root = path.join(ctx.base, `netsvc-${sfx}`);
  const svc = await NetworkService.open({ root, instance: `b${sfx}`, defaultBridge: `bb${sfx}`, addressPools: [{ base: '10.0.0.0/8', size: 24 }], dnsUpstreams: [] });
  const cycle = async (mode: 'bridge' | 'none') => {
    const id = randomBytes(32).toString('hex');
    const t = performance.now();
    await svc.createNetns(id, undefined, { forDefaultBridge: mode === 'bridge' });
    if (mode === 'bridge') {
      await svc.connect(id, { network: 'bridge', name: id.slice(0, 12) });
      await svc.publish(id, {});
    }
    await svc.ready(id);
    await svc.releaseContainer(id);
    return performance.now() - t;
  };
  try {
    for (let i = 0; i < 5; i++) { await cycle('bridge'); await cycle('none'); }
    const b: number[] = [], n: number[] = [];
    const rounds = Math.max(ctx.rounds * 4, 20);
    for (let i = 0; i < rounds; i++) {
      // Starts through the runtime are ~150 ms apart: the warm namespace pool refills between them.
      await new Promise((r) => setTimeout(r, 60));
      b.push(await cycle('bridge'));
      await new Promise((r) => setTimeout(r, 60));
      n.push(await cycle('none'));
    }
    return [{ workload: 'network set-up+tear-down, service alone (bridge)', berth: b, floor: n, note: 'floor: the same for --network none; the difference is the bridge\'s own cost' }];
  } finally {
    await svc.destroy();
    await fs.rm(root, { recursive: true, force: true });
  }
}

async function throughput(ctx: BenchContext): Promise<Row[]> {
  const procs: ChildProcess[] = [];
  const name = 'bnet_sink';
  ctx.berthOut(['run', '-d', '--name', name, '-p', '127.0.0.1::9000', 'busybox', 'sleep', '1000']);
  let proxy: PortProxy | undefined;
  try {
    const ins = JSON.parse(ctx.berthOut(['inspect', name]))[0].NetworkSettings;
    const ip: string = ins.IPAddress;
    const hp = Number(ins.Ports['9000/tcp'][0].HostPort);
    procs.push(startSink(ins.SandboxKey));
    await reachable(ip, 9000);
    // The daemon's proxy for this port is bypassed by DNAT; the same proxy code on another port shows that path.
    const free = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    proxy = await PortProxy.open('tcp', '127.0.0.1', free, ip, 9000);
    const direct = await sendRounds(ctx.rounds, ip, 9000);
    const dnat = await sendRounds(ctx.rounds, '127.0.0.1', hp);
    const userland = await sendRounds(ctx.rounds, '127.0.0.1', free);
    let peerProxy: number[] | undefined;
    let peerDirect: number[] | undefined;
    if (ctx.peer) {
      ctx.dockerOut(ctx.peer, ['run', '-d', '--name', name, '-p', '127.0.0.1::9000', 'busybox', 'sleep', '1000']);
      try {
        const pins = JSON.parse(ctx.dockerOut(ctx.peer, ['inspect', name]))[0].NetworkSettings;
        procs.push(startSink(pins.SandboxKey));
        await reachable(pins.IPAddress, 9000);
        peerDirect = await sendRounds(ctx.rounds, pins.IPAddress, 9000);
        peerProxy = await sendRounds(ctx.rounds, '127.0.0.1', Number(pins.Ports['9000/tcp'][0].HostPort));
      } finally {
        ctx.dockerOut(ctx.peer, ['rm', '-f', name]);
      }
    }
    return [
      { workload: `${MIB} MiB via published port, DNAT`, berth: dnat, floor: direct, note: 'floor: the same sent straight to the container address' },
      { workload: `${MIB} MiB via published port, userland proxy`, berth: userland, floor: direct, peer: peerProxy, note: 'peer: docker-proxy (the peer runs --iptables=false)' },
      ...(peerDirect ? [{ workload: `${MIB} MiB direct to container address`, berth: direct, peer: peerDirect }] : []),
    ];
  } finally {
    proxy?.close();
    for (const p of procs) p.kill('SIGKILL');
    ctx.berthOut(['rm', '-f', name]);
  }
}

export const networkWorkloads: WorkloadGroup[] = [{
  name: 'network',
  describe: 'bridge vs none per container (daemon and service alone), published-port throughput: DNAT, userland proxy, direct',
  async run(ctx) {
    return [...await startCost(ctx), ...await serviceCost(ctx), ...await throughput(ctx)];
  },
}];
