import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Background } from './steps.js';

function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((r) => { open = r; });
  return { open, wait };
}

test('background work of one container runs in order; settled waits for all of it, other containers do not', async () => {
  const bg = new Background();
  const order: string[] = [];
  const g = gate();
  bg.run('a', 'first', async () => { await g.wait; order.push('a1'); });
  bg.run('a', 'second', async () => { order.push('a2'); });
  bg.run('b', 'other', async () => { order.push('b1'); });
  await bg.settled('b');
  assert.deepEqual(order, ['b1'], 'b does not wait for a');
  let aSettled = false;
  const settling = bg.settled('a').then(() => { aSettled = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(aSettled, false);
  g.open();
  await settling;
  assert.deepEqual(order, ['b1', 'a1', 'a2']);
});

test('a failing step is logged, not thrown, and the chain goes on', async () => {
  const bg = new Background();
  const order: string[] = [];
  bg.run('c', 'breaks', async () => { throw new Error('umount failed'); });
  bg.run('c', 'after', async () => { order.push('after'); });
  await bg.settled('c');
  assert.deepEqual(order, ['after']);
});

test('room holds new work back while too many containers have cleanup pending; drain waits for all', async () => {
  const bg = new Background();
  const gates = [gate(), gate(), gate()];
  gates.forEach((g, i) => bg.run(`x${i}`, 'slow', () => g.wait));
  let roomMade = false;
  const room = bg.room(3).then(() => { roomMade = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(roomMade, false, 'three pending, limit three: wait');
  gates[1].open();
  await room;
  await bg.room(3);
  let drained = false;
  const drain = bg.drain().then(() => { drained = true; });
  gates[0].open();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(drained, false);
  gates[2].open();
  await drain;
  assert.equal(drained, true);
});
