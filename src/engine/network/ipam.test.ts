import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, chooseSubnet, DEFAULT_POOLS, formatCidr, macForIp, newPool, overlaps, parseAddressPoolFlag, parseCidr, release } from './ipam.js';

describe('ipam', () => {
  it('parses and masks CIDRs, refusing bad ones with Docker’s message', () => {
    assert.equal(formatCidr(parseCidr('172.18.5.9/16')), '172.18.0.0/16');
    for (const bad of ['10.0.0/8', '10.0.0.0/33', '300.1.1.1/8', 'x']) assert.throws(() => parseCidr(bad), { message: `invalid CIDR address: ${bad}` });
  });

  it('picks the first default pool that overlaps no route or network', () => {
    assert.equal(formatCidr(chooseSubnet(DEFAULT_POOLS, [])), '172.17.0.0/16');
    assert.equal(formatCidr(chooseSubnet(DEFAULT_POOLS, [parseCidr('172.17.3.0/24'), parseCidr('172.18.0.0/16')])), '172.19.0.0/16');
    const all172 = [parseCidr('172.16.0.0/12')];
    assert.equal(formatCidr(chooseSubnet(DEFAULT_POOLS, all172)), '192.168.0.0/20');
    assert.equal(formatCidr(chooseSubnet(DEFAULT_POOLS, [...all172, parseCidr('192.168.0.0/20')])), '192.168.16.0/20');
    assert.throws(() => chooseSubnet([{ base: '10.0.0.0/24', size: 24 }], [parseCidr('10.0.0.0/8')]), /could not find an available/);
    assert.equal(overlaps(parseCidr('10.1.0.0/16'), parseCidr('10.0.0.0/8')), true);
    assert.deepEqual(parseAddressPoolFlag('base=10.10.0.0/16,size=24'), { base: '10.10.0.0/16', size: 24 });
    assert.throws(() => parseAddressPoolFlag('base=10.10.0.0/16,size=8'));
  });

  it('allocates round-robin, honours --ip, --ip-range and --gateway, never the reserved addresses', () => {
    const p = newPool('10.5.0.0/29');
    assert.equal(p.gateway, '10.5.0.1');
    const got = [allocate(p), allocate(p), allocate(p)];
    assert.deepEqual(got, ['10.5.0.2', '10.5.0.3', '10.5.0.4']);
    release(p, '10.5.0.2');
    assert.equal(allocate(p), '10.5.0.5', 'a freed address is not reused at once');
    assert.equal(allocate(p), '10.5.0.6');
    assert.equal(allocate(p), '10.5.0.2', 'wraps around to freed ones');
    assert.throws(() => allocate(p), /no available IPv4 addresses/);
    const q = newPool('10.6.0.0/24', '10.6.0.254', '10.6.0.128/25');
    assert.equal(allocate(q), '10.6.0.128');
    assert.equal(allocate(q, '10.6.0.7'), '10.6.0.7');
    assert.throws(() => allocate(q, '10.6.0.7'), /Address already in use/);
    assert.throws(() => allocate(q, '10.6.0.254'), /Address already in use/);
    assert.throws(() => allocate(q, '10.7.0.1'), /does not belong to subnet/);
    assert.throws(() => newPool('10.6.0.0/24', '10.9.0.1'), /no matching subnet for gateway/);
    assert.throws(() => newPool('10.6.0.0/24', undefined, '10.9.0.0/25'), /no matching subnet for range/);
  });

  it('derives Docker’s MAC from the address', () => {
    assert.equal(macForIp('172.17.0.2'), '02:42:ac:11:00:02');
  });
});
