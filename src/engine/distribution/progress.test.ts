import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanSize, LayerProgress, progressBar, shortDigest, type ProgressMessage } from './progress.js';
import { decodeAuthHeader, registryDomain } from './service.js';

describe('progress messages', () => {
  it('sizes and bars as Docker prints them', () => {
    assert.equal(humanSize(512), '512B');
    assert.equal(humanSize(2_217_000), '2.217MB');
    assert.equal(humanSize(65_536), '65.54kB');
    assert.equal(progressBar(0, 100), `[>${' '.repeat(50)}]       0B/100B`);
    assert.equal(progressBar(50, 100), `[${'='.repeat(25)}>${' '.repeat(25)}]      50B/100B`);
    assert.equal(progressBar(2_217_000, 2_217_000), `[${'='.repeat(50)}>]  2.217MB/2.217MB`);
    assert.equal(shortDigest('sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4'), 'a3ed95caeb02');
  });

  it('throttles byte counts but always sends the last one', () => {
    const got: ProgressMessage[] = [];
    const p = new LayerProgress((m) => got.push(m), 'abc', 10_000);
    p.bytes('Downloading', 1, 100);
    p.bytes('Downloading', 2, 100);
    p.bytes('Downloading', 100, 100);
    assert.deepEqual(got.map((m) => m.progressDetail?.current), [1, 100]);
    assert.equal(got[0].id, 'abc');
  });
});

describe('registry auth from API callers', () => {
  it('decodes X-Registry-Auth (base64url JSON), ignoring junk as Docker does', () => {
    const v = Buffer.from(JSON.stringify({ username: 'u', password: 'p?>', serveraddress: 'h:5000' })).toString('base64url');
    assert.deepEqual(decodeAuthHeader(v), { username: 'u', password: 'p?>', serveraddress: 'h:5000' });
    assert.equal(decodeAuthHeader('%%%'), undefined);
    assert.equal(decodeAuthHeader(undefined), undefined);
  });

  it('maps server addresses to registry domains', () => {
    assert.equal(registryDomain('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(registryDomain(undefined), 'docker.io');
    assert.equal(registryDomain('http://127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(registryDomain('ghcr.io'), 'ghcr.io');
  });
});
