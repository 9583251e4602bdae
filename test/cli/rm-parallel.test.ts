import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDaemon, reply, runBerth } from './fake-daemon.js';

/**
 * `rm` (like stop and kill) sends its requests at once, as the docker CLI
 * does, yet prints results in argument order, and a failure among them gives
 * exit code 1 without hiding the others.
 */
test('rm -f removes containers concurrently and reports in argument order', async () => {
  let inFlight = 0;
  let most = 0;
  const d = new FakeDaemon(async (req, res) => {
    if (req.method !== 'DELETE') return reply(res, 404, { message: 'page not found' });
    const name = req.path.split('/').pop()!;
    inFlight++;
    most = Math.max(most, inFlight);
    // Answer later names first, so arrival order differs from argument order.
    await new Promise((r) => setTimeout(r, 400 - Number(name.slice(1)) * 80));
    inFlight--;
    if (name === 'c2') return reply(res, 404, { message: 'No such container: c2' });
    reply(res, 204);
  });
  await d.listen();
  try {
    const r = await runBerth(d.host, ['rm', '-f', 'c0', 'c1', 'c2', 'c3', 'c4']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'c0\nc1\nc3\nc4\n');
    assert.match(r.stderr, /No such container: c2/);
    assert.ok(most > 1, `requests overlapped (at most ${most} at once)`);
    assert.ok(d.seen.filter((s) => s.method === 'DELETE').every((s) => s.query.force === '1' || s.query.force === 'true'));
  } finally {
    await d.close();
  }
});
