import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArchiveRootfs } from './archive-rootfs.js';

/** A mount table that records the order of operations and makes unmount slow, like a real umount under load. */
function fakeMounts(running = false) {
  const ops: string[] = [];
  let mounted = false;
  return {
    ops,
    get mounted() { return mounted; },
    deps: {
      async mount(id: string) { ops.push('mount'); if (!mounted) mounted = true; return `/m/${id}`; },
      async unmount() { ops.push('unmount start'); await new Promise((r) => setTimeout(r, 30)); mounted = false; ops.push('unmount done'); },
      running: () => running,
    },
  };
}

test('a hold right after a release waits for its unmount, then mounts again', async () => {
  const m = fakeMounts();
  const rootfs = new ArchiveRootfs(m.deps);
  const first = await rootfs.hold('c');
  const releasing = first.release(); // not awaited: the answer went out, the next request comes in
  const second = await rootfs.hold('c');
  assert.deepEqual(m.ops, ['mount', 'unmount start', 'unmount done', 'mount']);
  assert.equal(m.mounted, true, 'the second request sees the filesystem mounted');
  await releasing;
  await second.release();
  assert.equal(m.mounted, false);
});

test('overlapping holds share the mount; only the last release unmounts, and only a stopped container', async () => {
  const m = fakeMounts();
  const rootfs = new ArchiveRootfs(m.deps);
  const a = await rootfs.hold('c');
  const b = await rootfs.hold('c');
  await a.release();
  await a.release(); // twice is once
  assert.equal(m.mounted, true, 'b still holds it');
  await b.release();
  assert.equal(m.mounted, false);

  const r = fakeMounts(true);
  const live = new ArchiveRootfs(r.deps);
  await (await live.hold('c')).release();
  assert.deepEqual(r.ops, ['mount'], 'a running container keeps its mount');
});
