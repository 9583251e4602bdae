import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, parsePlatform, platformArgs, platformMatches } from './platform.js';

const hostArch = ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;

test('platform specifiers normalise as containerd parses them', () => {
  const f = (s: string) => formatPlatform(parsePlatform(s));
  assert.equal(f('linux/amd64'), 'linux/amd64');
  assert.equal(f('Linux/x86_64'), 'linux/amd64');
  assert.equal(f('linux/aarch64'), 'linux/arm64');
  assert.equal(f('linux/arm64/v8'), 'linux/arm64');
  assert.equal(f('linux/armhf'), 'linux/arm/v7');
  assert.equal(f('linux/arm/7'), 'linux/arm/v7');
  assert.equal(f('linux/i386'), 'linux/386');
  // One component: an OS takes the host's architecture, an architecture the host's OS.
  assert.equal(f('linux'), `linux/${hostArch}`);
  assert.equal(f('arm64'), 'linux/arm64');
});

test('bad specifiers fail with Docker\'s messages', () => {
  assert.throws(() => parsePlatform(''), { message: 'failed to parse platform : "" is an invalid component of "": platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument' });
  assert.throws(() => parsePlatform('bogus/x/y/z'), { message: 'failed to parse platform bogus/x/y/z: "bogus/x/y/z": cannot parse platform specifier: invalid argument' });
  assert.throws(() => parsePlatform('linux/a b'), /"a b" is an invalid component of "linux\/a b"/);
  assert.throws(() => parsePlatform('nonsense'), /unknown operating system or architecture/);
});

test('matching: OS and architecture must agree; a variant only when both name one', () => {
  assert.ok(platformMatches(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' }));
  assert.ok(!platformMatches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'amd64' }));
  assert.ok(!platformMatches(parsePlatform('windows/amd64'), { os: 'linux', architecture: 'amd64' }));
  assert.ok(platformMatches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm' }));
  assert.ok(!platformMatches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' }));
});

test('automatic ARGs describe the target and this host', () => {
  const a = platformArgs(parsePlatform('linux/arm/v7'));
  assert.equal(a.TARGETPLATFORM, 'linux/arm/v7');
  assert.equal(a.TARGETOS, 'linux');
  assert.equal(a.TARGETARCH, 'arm');
  assert.equal(a.TARGETVARIANT, 'v7');
  assert.equal(a.BUILDPLATFORM, `linux/${hostArch}`);
  assert.equal(a.BUILDARCH, hostArch);
  assert.equal(a.BUILDVARIANT, '');
});
