import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { IpRunner, IpError } from '../../src/engine/network/ip.js';
import { NftRunner } from '../../src/engine/network/nft.js';

// The long-lived `ip` and `nft` helpers: batches, error attribution,
// recovery when the helper dies, and nft's all-or-nothing transactions.
// Everything made here is named after this run and removed in `after`.

const sfx = randomBytes(3).toString('hex');
const br = `rt${sfx}`;
const table = `rt${sfx}`;
const ip = new IpRunner();
const nft = new NftRunner();

after(async () => {
  await ip.batch([`link del ${br}`]).catch(() => {});
  await nft.apply([`add table ip ${table}`, `delete table ip ${table}`]).catch(() => {});
  ip.close();
  nft.close();
});

describe('ip and nft helpers', () => {
  it('runs ip batches in order and names the command that failed', async () => {
    await ip.batch([`link add ${br} type bridge`, `link set ${br} up`]);
    const links = await ip.query<{ ifname: string; flags: string[] }[]>(['link', 'show', 'dev', br]);
    assert.ok(links[0].flags.includes('UP'));
    await assert.rejects(ip.batch([`link set ${br} down`, `link add ${br} type bridge`, `link set ${br} up`]),
      (e: any) => e instanceof IpError && e.failedCommand === `link add ${br} type bridge` && /File exists/.test(e.message));
    // The batch after a failure is unaffected.
    await ip.batch([`link set ${br} down`]);
    assert.ok(!(await ip.query<any[]>(['link', 'show', 'dev', br]))[0].flags.includes('UP'));
  });

  it('refuses arguments ip could misparse, and recovers when the helper exits', async () => {
    await assert.rejects(ip.batch([`link set ${br} alias "x y"`]), /unsafe ip argument/);
    // An invalid address makes `ip` exit even in -force mode: the next batch gets a fresh helper.
    await assert.rejects(ip.batch([`addr add 10.0.0.300/24 dev ${br}`]), IpError);
    await ip.batch([`link set ${br} up`]);
  });

  it('applies an nft change completely or not at all', async () => {
    await nft.apply([`add table ip ${table}`, `add set ip ${table} s { type inet_service; }`]);
    await nft.apply([`add element ip ${table} s { 1 }`]);
    await assert.rejects(nft.apply([`add element ip ${table} s { 2 }`, `add element ip ${table} nosuchset { 3 }`]), /nft: Error/);
    const out = await nft.query(['list', 'set', 'ip', table, 's']);
    const set = (out.nftables as any[]).find((o) => o.set)!.set;
    assert.deepEqual(set.elem, [1]);
    assert.equal(await nft.hasTable('ip', table), true);
  });
});
