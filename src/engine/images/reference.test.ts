import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiar, parseReference, referenceString, withDefaultTag, parseRepoTag } from './reference.js';

test('normalises Docker Hub names like docker does', () => {
  assert.equal(referenceString(withDefaultTag(parseReference('busybox'))), 'docker.io/library/busybox:latest');
  assert.equal(referenceString(parseReference('me/app:1.0')), 'docker.io/me/app:1.0');
  assert.equal(referenceString(parseReference('index.docker.io/library/debian:12')), 'docker.io/library/debian:12');
  assert.equal(familiar(parseReference('docker.io/library/busybox:1')), 'busybox:1');
  assert.equal(familiar(parseReference('docker.io/me/app')), 'me/app');
});

test('keeps registries with a dot, a port or localhost', () => {
  const r = parseReference('host:5000/a/b:t');
  assert.deepEqual(r, { domain: 'host:5000', path: 'a/b', tag: 't' });
  assert.equal(familiar(r), 'host:5000/a/b:t');
  assert.equal(parseReference('localhost/x').domain, 'localhost');
  assert.equal(parseReference('example.com/x').domain, 'example.com');
  assert.equal(parseReference('registry/x').domain, 'docker.io');
  assert.equal(parseReference('registry/x').path, 'registry/x');
});

test('parses digests', () => {
  const d = 'sha256:' + 'a'.repeat(64);
  const r = parseReference(`busybox@${d}`);
  assert.equal(r.digest, d);
  assert.equal(r.tag, undefined);
  assert.equal(familiar(withDefaultTag(r)), `busybox@${d}`);
  assert.equal(parseReference(`busybox:1@${d}`).tag, '1');
});

test("refuses invalid references with Docker's messages", () => {
  assert.throws(() => parseReference('Busybox'), /invalid reference format: repository name \(library\/Busybox\) must be lowercase/);
  assert.throws(() => parseReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  for (const bad of ['', 'a:', ':tag', 'a b', 'busybox:-x', 'a//b', 'a/', '-a', 'a@sha256:zz', 'x:' + 't'.repeat(129)]) {
    assert.throws(() => parseReference(bad), /invalid reference format/, bad);
  }
  assert.throws(() => parseReference('a'.repeat(256)), /must not be more than 255 characters/);
  assert.throws(() => parseRepoTag('busybox', 'bad tag'), /invalid tag format/);
  assert.equal(familiar(parseRepoTag('busybox', 'v2')), 'busybox:v2');
  assert.equal(familiar(parseRepoTag('busybox')), 'busybox:latest');
});
