import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { networkInstance } from '../../src/daemon/network-port.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// 1,000 create/start/rm cycles through a real daemon on the default bridge,
// each with a published port (a userland proxy and DNAT map elements), plus
// named containers on a user network (embedded DNS records). Everything the
// network side makes per container is counted before and after: it must all
// be gone. BERTH_LEAK_CYCLES overrides the count for a quick run.

const CYCLES = Number(process.env.BERTH_LEAK_CYCLES ?? 1000);
const PARALLEL = 4;
const NET = 'bleak-user';
let d: TestDaemon;
let table: string;
let bridge: string;
let nsPrefix: string;

before(async () => {
  d = await startTestDaemon();
  const inst = networkInstance(d.dataRoot);
  table = `berth-${inst.instance}`;
  bridge = inst.defaultBridge;
  nsPrefix = `${table}-`;
});
after(async () => {
  await d?.api('DELETE', `/networks/${NET}`).catch(() => undefined);
  await d?.cleanup();
});

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Counts {
  /** veths that appeared since the baseline on no bridge: a pair whose container end outlived its use (other engines' sit on their bridges). */
  orphanVeths: string[];
  bridgeAddresses: number;
  /** Ports of our bridge: only the warm pool's pre-wired veths may remain. */
  bridgePorts: number;
  nftLines: number; netns: number; fds: number; conmon: number; daemonListeners: number;
}

/** Host links at the start: other helpers on this machine add and remove theirs meanwhile, so only new veths of ours count. */
let baselineLinks = new Set<string>();

function counts(): Counts {
  const pid = d.proc.pid!;
  // Rules and map elements both print as lines of the table listing.
  const nftLines = sh('nft', ['list', 'table', 'ip', table]).split('\n').filter((l) => l.trim()).length;
  const conmon = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return path.basename(cmd[0]) === 'conmon' && cmd.some((a) => a.startsWith(d.execRoot));
    } catch { return false; }
  }).length;
  // Sockets the daemon listens on (proxies) show as inodes in its fd table; count them apart so a leak says what it is.
  const listeners = sh('ss', ['-H', '-ltunp']).split('\n').filter((l) => l.includes(`pid=${pid},`)).length;
  return {
    orphanVeths: (JSON.parse(sh('ip', ['-json', 'link'])) as { ifname: string; master?: string }[])
      .filter((l) => !baselineLinks.has(l.ifname) && /^veth/.test(l.ifname) && !l.master).map((l) => l.ifname),
    bridgeAddresses: sh('ip', ['-o', 'addr', 'show', 'dev', bridge]).trim().split('\n').filter(Boolean).length,
    bridgePorts: sh('ip', ['-o', 'link', 'show', 'master', bridge]).trim().split('\n').filter(Boolean).length,
    nftLines,
    netns: readdirSync('/run/netns').filter((n) => n.startsWith(nsPrefix)).length,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    conmon,
    daemonListeners: listeners,
  };
}

/** Counts once the daemon is idle: background work (warm netns pool, exiting helpers) settles within a few seconds. */
async function settledCounts(want?: Counts): Promise<Counts> {
  let c = counts();
  for (let i = 0; i < 40 && want && JSON.stringify(c) !== JSON.stringify(want); i++) {
    await new Promise((r) => setTimeout(r, 250));
    c = counts();
  }
  return c;
}

async function api(method: string, p: string, body?: unknown): Promise<any> {
  const r = await d.api(method, p, body);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.body;
}

async function cycle(i: number): Promise<void> {
  const { Id } = await api('POST', `/containers/create?name=bleak${i}`, {
    Image: 'busybox', Cmd: ['true'], ExposedPorts: { '80/tcp': {} },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  await api('POST', `/containers/${Id}/start`);
  await api('POST', `/containers/${Id}/wait`);
  await api('DELETE', `/containers/${Id}`);
}

async function resolvesOnNet(name: string): Promise<string> {
  const { Id } = await api('POST', '/containers/create', { Image: 'busybox', Cmd: ['nslookup', name], HostConfig: { NetworkMode: NET } });
  await api('POST', `/containers/${Id}/start`);
  await api('POST', `/containers/${Id}/wait`);
  const logs = (await d.api('GET', `/containers/${Id}/logs?stdout=1&stderr=1`)).text;
  await api('DELETE', `/containers/${Id}?force=1`);
  return logs;
}

test(`${CYCLES} create/start/rm cycles with a published port leave nothing behind`, { timeout: 30 * 60_000 }, async () => {
  await api('POST', '/networks/create', { Name: NET });
  // Warm-up: first use starts helper processes and pools that then stay (namespaces
  // pre-wired to the default bridge, and plain ones for containers whose first network is another).
  for (let i = 0; i < PARALLEL * 2; i++) await cycle(1_000_000 + i);
  for (let i = 0; i < 2; i++) await resolvesOnNet('warmup');
  baselineLinks = new Set((JSON.parse(sh('ip', ['-json', 'link'])) as { ifname: string }[]).map((l) => l.ifname));
  // Pool refills after the warm-up create veths whose host end is briefly on no bridge: let them finish.
  let before = counts();
  for (let i = 0; i < 40 && before.orphanVeths.length; i++) {
    await new Promise((r) => setTimeout(r, 250));
    before = counts();
  }
  assert.ok(before.bridgePorts <= 2, `only the warm pool's veths on the bridge: ${before.bridgePorts}`);

  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < CYCLES) await cycle(next++);
  }));
  const secs = (Date.now() - t0) / 1000;

  // Named containers on a user network register DNS records; once removed, their names must not resolve.
  for (let i = 0; i < 20; i++) {
    const { Id } = await api('POST', `/containers/create?name=bleakdns${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: NET } });
    await api('POST', `/containers/${Id}/start`);
    await api('POST', `/containers/${Id}/wait`);
    await api('DELETE', `/containers/${Id}`);
  }
  const keep = await api('POST', '/containers/create?name=bleakkeep', { Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: NET } });
  await api('POST', `/containers/${keep.Id}/start`);
  assert.match(await resolvesOnNet('bleakkeep'), /Address.*\d+\.\d+\.\d+\.\d+/, 'a live container resolves');
  const gone = await resolvesOnNet('bleakdns7');
  assert.match(gone, /can't resolve|NXDOMAIN/i, `a removed container's name must not resolve:\n${gone}`);
  await api('DELETE', `/containers/${keep.Id}?force=1`);

  const afterCounts = await settledCounts(before);
  process.stderr.write(`leak test: ${CYCLES} cycles in ${secs.toFixed(1)} s (${PARALLEL} in parallel); counts ${JSON.stringify(afterCounts)}\n`);
  assert.deepEqual(afterCounts, before);
  const left = (await api('GET', '/containers/json?all=1')) as unknown[];
  assert.equal(left.length, 0);
});
