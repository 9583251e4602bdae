import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// Docker's FORWARD drop policy, recreated inside a private network namespace
// (its nftables ruleset is its own), so the host's firewall is never touched.

const ns = `bfw-${randomBytes(3).toString('hex')}`;
const hostfw = fileURLToPath(new URL('../../src/engine/network/hostfw.js', import.meta.url));
const nftMod = fileURLToPath(new URL('../../src/engine/network/nft.js', import.meta.url));

after(() => {
  try { execFileSync('ip', ['netns', 'delete', ns]); } catch { /* not created */ }
});

describe('FORWARD policy check', () => {
  it('is silent on a clean ruleset and explains how to allow our bridges when a forward chain drops', () => {
    execFileSync('ip', ['netns', 'add', ns]);
    const script = `
      import { NftRunner } from ${JSON.stringify(nftMod)};
      import { forwardPolicyWarning } from ${JSON.stringify(hostfw)};
      const nft = new NftRunner();
      const before = await forwardPolicyWarning(nft, ['berth0']);
      await nft.apply(['add table ip filter', 'add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }']);
      const afterDrop = await forwardPolicyWarning(nft, ['berth0']);
      nft.close();
      console.log(JSON.stringify({ before, afterDrop }));`;
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
    const { before, afterDrop } = JSON.parse(out.trim().split('\n').pop()!);
    assert.deepEqual(before, []);
    assert.equal(afterDrop.length, 1);
    assert.match(afterDrop[0], /nftables chain ip filter FORWARD drops forwarded packets/);
    assert.match(afterDrop[0], /iptables -I FORWARD -i berth0 -j ACCEPT/);
  });
});
