import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerRunState } from './run-state.js';

function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((r) => { open = r; });
  return { open, wait };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** Settles a promise into a flag the test can look at without awaiting it. */
function watch(p: Promise<unknown>): { done: boolean; value?: unknown } {
  const w: { done: boolean; value?: unknown } = { done: false };
  p.then((v) => { w.done = true; w.value = v; }, () => { w.done = true; });
  return w;
}

test('exclusive runs the state changes of one container one at a time, in call order; other containers do not wait', async () => {
  const run = new ContainerRunState();
  const order: string[] = [];
  let inside = 0;
  const slow = gate();
  const step = (name: string, wait?: Promise<void>) => async () => {
    inside++;
    assert.equal(inside, 1, `${name} overlaps another state change of the same container`);
    order.push(`${name} in`);
    if (wait) await wait;
    await tick(1);
    order.push(`${name} out`);
    inside--;
    return name;
  };
  const first = run.exclusive('a', step('start', slow.wait));
  const second = run.exclusive('a', step('exit'));
  const third = run.exclusive('a', step('remove'));
  // Another container's change runs while 'a' is held.
  assert.equal(await run.exclusive('b', async () => 'other'), 'other');
  assert.deepEqual(order, ['start in']);
  slow.open();
  assert.deepEqual(await Promise.all([first, second, third]), ['start', 'exit', 'remove']);
  assert.deepEqual(order, ['start in', 'start out', 'exit in', 'exit out', 'remove in', 'remove out']);
});

test('a failed state change is reported to its caller and does not block the next one', async () => {
  const run = new ContainerRunState();
  const failing = run.exclusive('a', async () => { throw new Error('runc create failed'); });
  const next = run.exclusive('a', async () => 'removed');
  await assert.rejects(failing, /runc create failed/);
  assert.equal(await next, 'removed');
});

test('waiters: an exit releases next-exit and not-running; a restart only next-exit; removal releases all with the exit code', async () => {
  const run = new ContainerRunState();
  const nextExit = watch(run.waitFor('a', 'next-exit'));
  const notRunning = watch(run.waitFor('a', 'not-running'));
  const removed = watch(run.waitFor('a', 'removed'));
  const otherContainer = watch(run.waitFor('b', 'next-exit'));

  // The exit of a container its restart policy restarts: only next-exit.
  run.reached('a', ['next-exit'], 1);
  await tick(1);
  assert.deepEqual([nextExit.done, nextExit.value], [true, 1]);
  assert.equal(notRunning.done, false);
  assert.equal(removed.done, false);

  // A later exit that stays: not-running too, with that run's code.
  run.reached('a', ['next-exit', 'not-running'], 137);
  await tick(1);
  assert.deepEqual([notRunning.done, notRunning.value], [true, 137]);
  assert.equal(removed.done, false);

  run.reached('a', ['next-exit', 'not-running', 'removed'], 137);
  await tick(1);
  assert.deepEqual([removed.done, removed.value], [true, 137]);
  assert.equal(otherContainer.done, false, "another container's waiter is untouched");
});

test('a waiter registered after the condition was reached waits for the next time', async () => {
  const run = new ContainerRunState();
  run.reached('a', ['next-exit'], 0);
  const late = watch(run.waitFor('a', 'next-exit'));
  await tick(1);
  assert.equal(late.done, false);
  run.reached('a', ['next-exit'], 2);
  await tick(1);
  assert.deepEqual([late.done, late.value], [true, 2]);
});

test("a removal's cleanup runs after the release of the last run; settled waits for both, then a start may go on", async () => {
  const run = new ContainerRunState();
  const order: string[] = [];
  const unmount = gate();
  run.afterAnswer('a', 'releasing a run', async () => {
    await unmount.wait;
    order.push('run released');
    run.setReleased('a', true);
  });
  run.afterAnswer('a', 'removing the container layer', async () => {
    order.push(run.isReleased('a') ? 'layer removed after release' : 'layer removed BEFORE release');
  });
  const settled = watch(run.settled('a'));
  const drained = watch(run.drain());
  await tick();
  assert.equal(settled.done, false, 'settled must wait for the pending release');
  assert.equal(drained.done, false);
  assert.deepEqual(order, []);
  unmount.open();
  await run.settled('a');
  await tick(1);
  assert.equal(settled.done, true);
  assert.equal(drained.done, true);
  assert.deepEqual(order, ['run released', 'layer removed after release']);
});

test('settled also waits for cleanup queued while it waits; a failing cleanup does not stop the chain', async () => {
  const run = new ContainerRunState();
  const order: string[] = [];
  run.afterAnswer('a', 'unmount', async () => {
    await tick(5);
    // A removal arriving meanwhile queues its part behind this one.
    run.afterAnswer('a', 'delete files', async () => { await tick(5); order.push('files'); });
    throw new Error('umount: target is busy');
  });
  await run.settled('a');
  assert.deepEqual(order, ['files']);
});

test('room holds creates back while too many containers have cleanup pending', async () => {
  const run = new ContainerRunState();
  const g = [gate(), gate()];
  run.afterAnswer('x', 'slow', () => g[0].wait);
  run.afterAnswer('y', 'slow', () => g[1].wait);
  const room = watch(run.room(2));
  await tick();
  assert.equal(room.done, false);
  g[0].open();
  await tick();
  assert.equal(room.done, true);
  g[1].open();
  await run.drain();
});

test('released and followed marks are per container', () => {
  const run = new ContainerRunState();
  run.setReleased('a', true);
  assert.equal(run.isReleased('a'), true);
  assert.equal(run.isReleased('b'), false);
  run.setReleased('a', false);
  assert.equal(run.isReleased('a'), false);

  assert.equal(run.follow('a'), true);
  assert.equal(run.follow('a'), false, 'a second watcher of the same exit is refused');
  assert.equal(run.follow('b'), true);
  run.unfollow('a');
  assert.equal(run.follow('a'), true);
});
