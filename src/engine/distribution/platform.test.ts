import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defaultPlatform, parsePlatform, selectPlatform } from './platform.js';
import type { ImageIndex } from './oci.js';

const d = (n: string, p: object) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + n.repeat(64), size: 1, platform: p as any });
const index: ImageIndex = {
  schemaVersion: 2,
  manifests: [
    d('a', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    d('b', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    d('c', { os: 'linux', architecture: 'amd64' }),
    d('e', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    d('f', { os: 'windows', architecture: 'amd64' }),
  ],
};

it('picks the index entry for a platform', () => {
  assert.equal(defaultPlatform().os, 'linux');
  assert.equal(selectPlatform(index, parsePlatform('linux/amd64')).digest, 'sha256:' + 'c'.repeat(64));
  assert.equal(selectPlatform(index, parsePlatform('linux/arm')).digest, 'sha256:' + 'b'.repeat(64));
  assert.equal(selectPlatform(index, parsePlatform('linux/arm/v6')).digest, 'sha256:' + 'a'.repeat(64));
  assert.equal(selectPlatform(index, parsePlatform('linux/aarch64')).digest, 'sha256:' + 'e'.repeat(64));
  assert.equal(selectPlatform(index, parsePlatform('windows/amd64')).digest, 'sha256:' + 'f'.repeat(64));
  assert.throws(() => selectPlatform(index, parsePlatform('linux/s390x')), { message: 'no matching manifest for linux/s390x in the manifest list entries' });
  assert.throws(() => parsePlatform('linux/amd64/v2/x'), /unknown operating system or architecture/);
});
