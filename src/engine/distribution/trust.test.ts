import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import { trustedCAs } from './trust.js';

const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;

test('no registry CA and no saved extra file: node defaults (undefined)', () => {
  assert.equal(trustedCAs(undefined, {}), undefined);
  assert.equal(trustedCAs([], { NODE_EXTRA_CA_CERTS: '/x.pem' }), undefined);
});

test('a certs.d CA is added to the public roots, not put in their place', () => {
  const cas = trustedCAs([pem('own')], {})!;
  assert.equal(cas.length, rootCertificates.length + 1);
  assert.equal(cas.at(-1), pem('own'));
  assert.ok(cas.includes(rootCertificates[0]!));
});

test('NODE_EXTRA_CA_CERTS (or the value bin/berth saved) joins an explicit CA list', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'btrust-'));
  try {
    const extra = path.join(dir, 'extra.pem');
    writeFileSync(extra, pem('corp'));
    assert.deepEqual(trustedCAs([pem('own')], { NODE_EXTRA_CA_CERTS: extra })!.slice(-2), [pem('corp'), pem('own')]);
    // Started through bin/berth -d: node never loaded it, so it is needed even without a registry CA.
    assert.deepEqual(trustedCAs(undefined, { BERTH_NODE_EXTRA_CA_CERTS: extra })!.slice(-1), [pem('corp')]);
    assert.equal(trustedCAs(undefined, { BERTH_NODE_EXTRA_CA_CERTS: '' }), undefined);
    // An unreadable file is skipped as node skips it.
    assert.equal(trustedCAs(undefined, { BERTH_NODE_EXTRA_CA_CERTS: path.join(dir, 'missing.pem') })!.length, rootCertificates.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
