import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capabilitySet } from './capabilities.js';
import { allCapabilities, availableCapabilities } from './defaults.js';

describe('capabilities', () => {
  it('availableCapabilities keeps the bits of CapBnd, in kernel order', () => {
    // All 41 known capabilities but CAP_SYS_RESOURCE (bit 24), as on a sandbox VM.
    const caps = availableCapabilities('Name:\tnode\nCapBnd:\t000001fffeffffff\n');
    assert.equal(caps.length, 40);
    assert.ok(!caps.includes('CAP_SYS_RESOURCE'));
    assert.ok(caps.includes('CAP_SYS_ADMIN') && caps.includes('CAP_CHECKPOINT_RESTORE'));
    assert.deepEqual(availableCapabilities('CapBnd:\t0000000000000003\n'), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
    // A kernel that knows more than we do still gives only names we know.
    assert.deepEqual(availableCapabilities('CapBnd:\t000fffffffffffff\n'), [...allCapabilities]);
    // Without the field (not Linux?) every known capability.
    assert.deepEqual(availableCapabilities('Name:\tx\n'), [...allCapabilities]);
  });

  it('privileged and ALL mean what this process can hold', () => {
    const mine = availableCapabilities();
    assert.deepEqual(capabilitySet({ privileged: true }), [...mine]);
    assert.deepEqual(capabilitySet({ add: ['ALL'], drop: ['mknod'] }), mine.filter((c) => c !== 'CAP_MKNOD'));
  });

  it('add and drop on the default set; unknown names refused', () => {
    const caps = capabilitySet({ add: ['net_admin'], drop: ['MKNOD'] });
    assert.ok(caps.includes('CAP_NET_ADMIN') && !caps.includes('CAP_MKNOD') && caps.includes('CAP_CHOWN'));
    assert.deepEqual(capabilitySet({ drop: ['ALL'], add: ['chown'] }), ['CAP_CHOWN']);
    assert.throws(() => capabilitySet({ add: ['CAP_NOPE'] }), /invalid capability: CAP_NOPE/);
  });
});
