import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { NftRunner } from './nft.js';

/**
 * Looks for another engine's firewall blocking forwarded traffic: Docker sets
 * the iptables FORWARD policy to DROP, and a drop in any base chain on the
 * forward hook wins over our accept. Berth never edits those rules; it says
 * what blocks and how to allow its bridges. The only module that runs
 * `iptables-legacy-save`.
 *
 * The decision is a pure function of the rulesets' text, so it is tested on
 * captured `nft list ruleset` / `iptables-save` output without touching the
 * host's firewall:
 *
 *   const warnings = forwardWarnings(findForwardBlocks({ nftRuleset, iptablesSave }), ['berth0']);
 *   // live: await forwardPolicyWarning(nft, ['berth0'])
 */
export interface ForwardBlock {
  /** Where the drop is, for the message: `nftables chain ip filter FORWARD`, `iptables-legacy FORWARD chain`. */
  where: string;
  /** Docker's DOCKER-USER chain exists there: the place Docker documents for the user's own accept rules. */
  dockerUser: boolean;
  /** The ruleset's text, to see whether accept rules for a bridge are already in place. */
  text: string;
  syntax: 'nft' | 'iptables';
}

/** Forward-hook drops in `nft list ruleset` text (iptables-nft's rules appear there too) and in `iptables-save` text. */
export function findForwardBlocks(src: { nftRuleset?: string; iptablesSave?: string; iptablesLabel?: string }): ForwardBlock[] {
  const out: ForwardBlock[] = [];
  if (src.nftRuleset) {
    const text = src.nftRuleset;
    let table: { family: string; name: string } | undefined;
    let chain: string | undefined;
    let dockerUser = false;
    const found: string[] = [];
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      let m: RegExpExecArray | null;
      if ((m = /^table\s+(\S+)\s+(\S+)\s*\{/.exec(line))) { table = { family: m[1], name: m[2] }; chain = undefined; continue; }
      if ((m = /^chain\s+(\S+)\s*\{/.exec(line))) { chain = m[1]; if (chain === 'DOCKER-USER') dockerUser = true; continue; }
      // IPv4 traffic only meets ip and inet tables.
      if (!table || !chain || (table.family !== 'ip' && table.family !== 'inet')) continue;
      if (/\bhook\s+forward\b/.test(line) && /\bpolicy\s+drop\s*;/.test(line)) found.push(`nftables chain ${table.family} ${table.name} ${chain}`);
    }
    for (const where of found) out.push({ where, dockerUser, text, syntax: 'nft' });
  }
  if (src.iptablesSave) {
    const text = src.iptablesSave;
    let tableName = '';
    let drops = false;
    let dockerUser = false;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('*')) { tableName = line.slice(1); continue; }
      if (tableName !== 'filter') continue;
      if (/^:FORWARD\s+DROP\b/.test(line)) drops = true;
      if (/^:DOCKER-USER\s/.test(line)) dockerUser = true;
    }
    if (drops) out.push({ where: `${src.iptablesLabel ?? 'iptables'} FORWARD chain`, dockerUser, text, syntax: 'iptables' });
  }
  return out;
}

/** True when accept rules for traffic into and out of the bridge are already in the ruleset (the user followed our advice). */
function bridgeAllowed(b: ForwardBlock, bridge: string): boolean {
  const esc = bridge.replace(/[.]/g, '\\.');
  const lines = b.text.split('\n');
  const has = (dir: 'i' | 'o') => lines.some((l) => b.syntax === 'nft'
    ? new RegExp(`\\b${dir}ifname\\s+"?${esc}"?\\s.*\\baccept\\b`).test(l)
    : new RegExp(`^-A\\s+(FORWARD|DOCKER-USER)\\s.*-${dir}\\s+${esc}\\s.*-j\\s+ACCEPT\\b`).test(l.trim()));
  return has('i') && has('o');
}

/** One warning per block that still stops some of our bridges, with the commands that allow them. */
export function forwardWarnings(blocks: ForwardBlock[], bridges: string[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    const blocked = bridges.filter((br) => !bridgeAllowed(b, br));
    if (blocked.length === 0) continue;
    const chain = b.dockerUser ? 'DOCKER-USER' : 'FORWARD';
    const allow = blocked.flatMap((br) => [`iptables -I ${chain} -i ${br} -j ACCEPT`, `iptables -I ${chain} -o ${br} -j ACCEPT`]).join('; ');
    out.push(`the ${b.where} drops forwarded packets by default (Docker does this): containers on Berth's bridges may not reach the outside or each other. To allow them run: ${allow}`);
  }
  return out;
}

/** Reads the live rulesets and returns forwardWarnings for them. Never fails: a firewall it cannot read is reported as nothing. */
export async function forwardPolicyWarning(nft: NftRunner, bridges: string[]): Promise<string[]> {
  const nftRuleset = await nft.listRuleset().catch(() => '');
  const iptablesSave = await legacyRuleset();
  return forwardWarnings(findForwardBlocks({ nftRuleset, iptablesSave, iptablesLabel: 'iptables-legacy' }), bridges);
}

async function legacyRuleset(): Promise<string> {
  // Running iptables-legacy would load the legacy tables as a side effect: only ask when they already exist.
  const names = await fs.readFile('/proc/net/ip_tables_names', 'utf8').catch(() => '');
  if (!/^filter$/m.test(names)) return '';
  return new Promise((resolve) => {
    const p = spawn('iptables-legacy-save', ['-t', 'filter'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    p.on('error', () => resolve(''));
    p.on('close', () => resolve(out));
  });
}
