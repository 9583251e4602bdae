import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { NftRunner } from './nft.js';

/**
 * Looks for another engine's firewall blocking forwarded traffic: Docker sets
 * the iptables FORWARD policy to DROP, and a drop in any base chain on the
 * forward hook wins over our accept. Berth never edits those rules; it says
 * what blocks and how to allow its bridges. The only module that runs
 * `iptables-legacy`.
 *
 *   const warnings = await forwardPolicyWarning(nft, ['berth0']);
 */
export async function forwardPolicyWarning(nft: NftRunner, bridges: string[]): Promise<string[]> {
  const found: string[] = [];
  try {
    const rs = await nft.query(['list', 'ruleset', 'ip']);
    for (const o of rs.nftables as any[]) {
      const c = o.chain;
      if (c && c.hook === 'forward' && c.policy === 'drop') found.push(`nftables chain ${c.family} ${c.table} ${c.name}`);
    }
  } catch { /* nft missing or no permission: nothing to report */ }
  if (await legacyForwardDrops()) found.push('iptables-legacy FORWARD chain');
  if (found.length === 0) return [];
  const allow = bridges.flatMap((b) => [`iptables -I DOCKER-USER -i ${b} -j ACCEPT`, `iptables -I DOCKER-USER -o ${b} -j ACCEPT`]).join('; ');
  return found.map((f) => `the ${f} drops forwarded packets by default (Docker does this): containers on Berth's bridges may not reach the outside or each other. To allow them run: ${allow}`);
}

async function legacyForwardDrops(): Promise<boolean> {
  // Running iptables-legacy would load the legacy tables as a side effect: only ask when they already exist.
  const names = await fs.readFile('/proc/net/ip_tables_names', 'utf8').catch(() => '');
  if (!/^filter$/m.test(names)) return false;
  return new Promise((resolve) => {
    const p = spawn('iptables-legacy', ['-S', 'FORWARD'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    p.on('error', () => resolve(false));
    p.on('close', () => resolve(/^-P FORWARD DROP/m.test(out)));
  });
}
