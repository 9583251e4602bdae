import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { EngineClient } from '../client/index.js';
import { printProgress } from './progress.js';

const stream = (msgs: object[]) => Readable.from([msgs.map((m) => JSON.stringify(m)).join('\r\n') + '\r\n']);
const msgs = [
  { status: 'Pulling from library/x', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 1, total: 2 }, progress: '[bar]', id: 'aaa' },
  { status: 'Downloading', progressDetail: { current: 2, total: 2 }, progress: '[bar2]', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa' },
  { status: 'Digest: sha256:1' },
];

describe('printProgress', () => {
  const client = new EngineClient('unix:///nonexistent.sock');

  it('prints one line per status change when not on a terminal', async () => {
    let out = '';
    await printProgress(client, stream(msgs), (s) => { out += s; });
    assert.equal(out, 'latest: Pulling from library/x\naaa: Pulling fs layer\nbbb: Pulling fs layer\naaa: Downloading\naaa: Download complete\nDigest: sha256:1\n');
  });

  it('rewrites each layer\'s line in place on a terminal', async () => {
    let out = '';
    await printProgress(client, stream(msgs), (s) => { out += s; }, true);
    // aaa is two lines above the cursor once bbb has its line.
    assert.ok(out.includes('\x1b[2A\x1b[2K\raaa: Downloading [bar2]\r\x1b[2B'), JSON.stringify(out));
    assert.ok(out.includes('\x1b[1A\x1b[2K\rbbb: Pulling fs layer\r\x1b[1B'));
    assert.ok(out.endsWith('\x1b[2K\rDigest: sha256:1\n'));
  });

  it('throws the error a stream carries', async () => {
    await assert.rejects(printProgress(client, stream([{ status: 'x' }, { errorDetail: { message: 'boom' }, error: 'boom' }]), () => undefined), /boom/);
  });
});
