import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.js';

test('params, greedy names with slashes, and method mismatch', () => {
  const r = new Router();
  const h = () => undefined;
  r.get('/containers/:id/json', h);
  r.get('/images/*name/json', h);
  r.delete('/images/*name', h);
  const m1 = r.match('GET', '/containers/abc/json');
  assert.ok(m1 && m1 !== 'methodMismatch');
  assert.deepEqual(m1.params, { id: 'abc' });
  const m2 = r.match('GET', '/images/localhost:5000/a/b:tag/json');
  assert.ok(m2 && m2 !== 'methodMismatch');
  assert.deepEqual(m2.params, { name: 'localhost:5000/a/b:tag' });
  const m3 = r.match('DELETE', '/images/a/b');
  assert.ok(m3 && m3 !== 'methodMismatch');
  assert.equal(m3.params.name, 'a/b');
  assert.equal(r.match('POST', '/containers/abc/json'), 'methodMismatch');
  assert.equal(r.match('GET', '/nothing'), undefined);
});
