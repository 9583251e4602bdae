import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ImageService } from '../src/engine/images/service.js';
import { ContainerRootfs } from '../src/engine/images/rootfs.js';
import { debianImage } from './fixtures/debian-image.js';
import { tempRoot } from './helpers/storage.js';

test('a Debian minbase rootfs imports and mounts as a container root', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const images = await ImageService.open(root.dir);
  const start = Date.now();
  const { image, skip } = await debianImage(images);
  if (!image) { t.skip(skip); return; }
  t.diagnostic(`Debian image ready in ${Date.now() - start} ms (${(images.sizeOf(image) / 1e6).toFixed(1)} MB)`);
  const rootfs = new ContainerRootfs(images);
  await rootfs.createContainerLayer('deb1', 'debian:bookworm');
  const dir = await rootfs.mountContainer('deb1');
  assert.match(await fs.readFile(path.join(dir, 'etc', 'debian_version'), 'utf8'), /^12\./);
  await fs.access(path.join(dir, 'bin', 'bash'));
  await rootfs.removeContainerLayer('deb1');
});
