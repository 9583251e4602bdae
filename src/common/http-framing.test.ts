import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyDecoder, headEnd, parseHead } from './http-framing.js';

/** Feeds `wire` to a decoder in pieces of `step` bytes; the payload and whether it ended. */
function decode(headers: Record<string, string>, wire: Buffer, step: number, status = 200, method = 'GET'): { body: Buffer; done: boolean } {
  const d = new BodyDecoder({ status, headers }, 'the test', method);
  const out: Buffer[] = [];
  let done = false;
  for (let off = 0; off < wire.length && !done; off += step) done = d.feed(wire.subarray(off, off + step), (b) => out.push(Buffer.from(b)));
  return { body: Buffer.concat(out), done };
}

test('a head is found and parsed whatever the header case', () => {
  const bytes = Buffer.from('HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\nX-A:b\r\n\r\nrest');
  const end = headEnd(bytes);
  assert.equal(bytes.subarray(end).toString(), 'rest');
  assert.deepEqual(parseHead(bytes.subarray(0, end - 4).toString('latin1'), 'x'), { status: 206, headers: { 'content-range': 'bytes 5-9/10', 'x-a': 'b' } });
  assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\r\n')), -1);
  assert.throws(() => parseHead('garbage', 'the registry'), /not an HTTP answer from the registry/);
});

test('chunked bodies split at every byte boundary decode the same; the terminator ends them', () => {
  const wire = Buffer.from('4;x=y\r\nabcd\r\n1\r\ne\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\nNEXT');
  for (const step of [1, 2, 3, 7, 100]) {
    const r = decode({ 'transfer-encoding': 'chunked' }, wire, step);
    assert.equal(r.body.toString(), 'abcde0123456789', `step ${step}`);
    assert.ok(r.done);
  }
  assert.equal(decode({ 'transfer-encoding': 'chunked' }, Buffer.from('4\r\nab'), 1).done, false, 'cut short is not done');
});

test('Content-Length bodies stop at the length; close-delimited ones never end by themselves', () => {
  const r = decode({ 'content-length': '5' }, Buffer.from('helloEXTRA'), 3);
  assert.equal(r.body.toString(), 'hello');
  assert.ok(r.done);
  const open = decode({}, Buffer.from('all of it'), 4);
  assert.equal(open.body.toString(), 'all of it');
  assert.equal(open.done, false);
  assert.equal(new BodyDecoder({ status: 200, headers: { 'content-length': '9' } }, 'x', 'HEAD').remaining, 0, 'HEAD has no body');
  assert.equal(new BodyDecoder({ status: 204, headers: {} }, 'x').untilClose, false);
});

test('malformed framing throws', () => {
  assert.throws(() => decode({ 'transfer-encoding': 'chunked' }, Buffer.from('zz\r\nab\r\n'), 64), /malformed chunked answer from the test/);
  assert.throws(() => decode({ 'transfer-encoding': 'chunked' }, Buffer.from('2\r\nabXY'), 64), /malformed chunked/);
  assert.throws(() => decode({ 'transfer-encoding': 'chunked' }, Buffer.from('1'.repeat(5000)), 64), /malformed chunked/);
  assert.throws(() => new BodyDecoder({ status: 200, headers: { 'content-length': '-1' } }, 'x'), /malformed Content-Length/);
});
