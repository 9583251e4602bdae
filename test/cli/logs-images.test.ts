import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame } from '../../src/client/stdcopy.js';
import { FakeDaemon, reply, runBerth } from './fake-daemon.js';

test('logs: options become query parameters, non-tty output is demultiplexed, tty output is raw', async () => {
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/containers/plain/json') return reply(res, 200, { Id: 'p', Config: { Tty: false } });
    if (req.path === '/containers/term/json') return reply(res, 200, { Id: 't', Config: { Tty: true } });
    if (req.path === '/containers/plain/logs') {
      res!.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      return void res!.end(Buffer.concat([encodeFrame(1, 'one\n'), encodeFrame(2, 'two\n'), encodeFrame(1, 'three\n')]));
    }
    if (req.path === '/containers/term/logs') return void res!.writeHead(200).end('raw\r\n');
    reply(res, 404, { message: 'No such container: x' });
  });
  await d.listen();
  try {
    const before = Math.floor(Date.now() / 1000);
    let r = await runBerth(d.host, ['logs', '--tail', '5', '-t', '--since', '10m', '--until', '2026-01-01T00:00:00Z', 'plain']);
    const after = Date.now() / 1000;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'one\nthree\n');
    assert.equal(r.stderr, 'two\n');
    const q = d.seen.find((s) => s.path === '/containers/plain/logs')!.query;
    assert.equal(q.stdout, '1');
    assert.equal(q.stderr, '1');
    assert.equal(q.tail, '5');
    assert.equal(q.timestamps, '1');
    assert.equal(q.follow, '0');
    assert.equal(q.until, String(Date.parse('2026-01-01T00:00:00Z') / 1000));
    const since = Number(q.since);
    // 10 minutes before the moment berth ran, which lies between `before` and `after`.
    assert.ok(since >= before - 601 && since <= after - 599, `since=${q.since}`);
    r = await runBerth(d.host, ['logs', 'term']);
    assert.equal(r.stdout, 'raw\r\n');
    r = await runBerth(d.host, ['logs', '--since', 'last tuesday', 'plain']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /invalid value for "since": failed to parse value as time or duration: "last tuesday"/);
    r = await runBerth(d.host, ['logs', 'ghost']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such container: x\n');
  } finally {
    await d.close();
  }
});

test('images: table, -q dedupes IDs, --format with a template', async () => {
  const now = Math.floor(Date.now() / 1000);
  const img = { Id: `sha256:${'1'.repeat(64)}`, RepoTags: ['busybox:latest', 'bb:1'], Created: now - 7200, Size: 4_261_412 };
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/images/json') return reply(res, 200, [img]);
    reply(res, 404, { message: 'nope' });
  });
  await d.listen();
  try {
    let r = await runBerth(d.host, ['images']);
    assert.equal(r.stdout,
      'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n' +
      'busybox      latest    111111111111   2 hours ago   4.26MB\n' +
      'bb           1         111111111111   2 hours ago   4.26MB\n');
    r = await runBerth(d.host, ['image', 'ls', '-q']);
    assert.equal(r.stdout, '111111111111\n');
    r = await runBerth(d.host, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}', 'busybox']);
    assert.equal(r.stdout, 'busybox:latest 4.26MB\nbb:1 4.26MB\n');
    const last = d.seen.filter((s) => s.path === '/images/json').pop()!;
    assert.deepEqual(JSON.parse(last.query.filters), { reference: { busybox: true } });
  } finally {
    await d.close();
  }
});

test('commit and pull: query parameters as Docker sends them', async () => {
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/commit') return reply(res, 201, { Id: 'sha256:abc' });
    if (req.path === '/images/create') {
      res!.writeHead(200, { 'Content-Type': 'application/json' });
      return void res!.end('{"status":"Pulling from library/busybox","id":"1.36"}\n{"status":"Status: Image is up to date for busybox:1.36"}\n');
    }
    reply(res, 404, { message: 'nope' });
  });
  await d.listen();
  try {
    let r = await runBerth(d.host, ['commit', '-m', 'msg', '-a', 'me', '-c', 'ENV X=1', '-c', 'CMD ["sh"]', 'web', 'repo/img:v2']);
    assert.equal(r.stdout, 'sha256:abc\n');
    const seen = d.seen.find((s) => s.path === '/commit')!;
    assert.deepEqual(seen.params.getAll('changes'), ['ENV X=1', 'CMD ["sh"]']);
    const q = seen.query;
    assert.deepEqual({ ...q }, { container: 'web', repo: 'repo/img', tag: 'v2', comment: 'msg', author: 'me', changes: 'CMD ["sh"]', pause: '1' });
    r = await runBerth(d.host, ['pull', 'busybox:1.36']);
    assert.equal(r.stdout, '1.36: Pulling from library/busybox\nStatus: Image is up to date for busybox:1.36\ndocker.io/library/busybox:1.36\n');
    assert.deepEqual(d.seen.find((s) => s.path === '/images/create')!.query, { fromImage: 'busybox', tag: '1.36' });
  } finally {
    await d.close();
  }
});

test('port: every mapping, or one, as docker port prints them', async () => {
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/containers/web/json') {
      return reply(res, 200, { NetworkSettings: { Ports: {
        '443/tcp': null,
        '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }],
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
      } } });
    }
    reply(res, 404, { message: 'nope' });
  });
  await d.listen();
  try {
    let r = await runBerth(d.host, ['port', 'web']);
    assert.equal(r.stdout, '53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n');
    r = await runBerth(d.host, ['port', 'web', '80']);
    assert.equal(r.stdout, '0.0.0.0:8080\n[::]:8080\n');
    r = await runBerth(d.host, ['port', 'web', '443/tcp']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Error: No public port '443/tcp' published for web\n");
  } finally {
    await d.close();
  }
});
