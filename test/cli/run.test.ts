import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { encodeFrame } from '../../src/client/stdcopy.js';
import { FakeDaemon, reply, runBerth, switchProtocols, type Seen } from './fake-daemon.js';

const ID = 'f'.repeat(64);

/**
 * A fake daemon that behaves like Docker for `run`: the image is missing until
 * pulled, attach is hijacked, the wait answers once the output has ended.
 */
function runDaemon(opts: { exitCode?: number; echoStdin?: boolean; startError?: string; haveImage?: boolean } = {}) {
  let pulled = !!opts.haveImage;
  let attached: Socket | undefined;
  let stdinSeen = '';
  let finishWait: (() => void) | undefined;
  const outputDone = new Promise<void>((r) => { finishWait = r; });
  const d = new FakeDaemon(async (req: Seen, res, socket) => {
    const route = `${req.method} ${req.path}`;
    if (route === 'GET /_ping') return void res!.writeHead(200, { 'Api-Version': '1.43', 'Content-Type': 'text/plain' }).end('OK');
    if (route === 'POST /containers/create') {
      if (!pulled) return reply(res, 404, { message: 'No such image: busybox:latest' });
      return reply(res, 201, { Id: ID, Warnings: [] });
    }
    if (route === 'POST /images/create') {
      pulled = true;
      res!.writeHead(200, { 'Content-Type': 'application/json' });
      res!.write(JSON.stringify({ status: 'Pulling from library/busybox', id: 'latest' }) + '\n');
      res!.write(JSON.stringify({ status: 'Downloading', progressDetail: { current: 1, total: 2 }, id: 'abc' }) + '\n');
      res!.end(JSON.stringify({ status: 'Status: Downloaded newer image for busybox:latest' }) + '\n');
      return;
    }
    if (route === `POST /containers/${ID}/attach`) {
      switchProtocols(socket!);
      attached = socket!;
      socket!.on('data', (c) => { stdinSeen += c.toString(); });
      if (opts.echoStdin) {
        // Answer only after the client half-closes its side: proves the half-close.
        socket!.on('end', () => {
          socket!.write(encodeFrame(1, `got:${stdinSeen}`));
          socket!.end();
          finishWait!();
        });
      }
      return;
    }
    if (route === `POST /containers/${ID}/wait`) {
      res!.writeHead(200, { 'Content-Type': 'application/json' });
      res!.flushHeaders();
      await outputDone;
      res!.end(JSON.stringify({ StatusCode: opts.exitCode ?? 0, Error: null }));
      return;
    }
    if (route === `POST /containers/${ID}/start`) {
      if (opts.startError) return reply(res, 400, { message: opts.startError });
      reply(res, 204);
      if (!opts.echoStdin && attached) {
        attached.write(encodeFrame(1, 'hello '));
        attached.write(Buffer.concat([encodeFrame(2, 'oops\n'), encodeFrame(1, 'world\n')]));
        attached.end();
        finishWait!();
      }
      return;
    }
    reply(res, 404, { message: `page not found: ${route}` });
  });
  return d;
}

test('run: pulls a missing image, attaches before start, splits stdout/stderr, exits with the container code', async () => {
  const d = runDaemon({ exitCode: 3 });
  await d.listen();
  try {
    const r = await runBerth(d.host, ['run', '--name', 'web', '-e', 'A=1', 'busybox', 'sh', '-c', 'echo hi']);
    assert.equal(r.stdout, 'hello world\n');
    assert.match(r.stderr, /^Unable to find image 'busybox:latest' locally\n/);
    assert.match(r.stderr, /latest: Pulling from library\/busybox\n/);
    assert.match(r.stderr, /Status: Downloaded newer image for busybox:latest\n/);
    assert.match(r.stderr, /oops\n$/);
    assert.equal(r.code, 3);

    const routes = d.seen.map((s) => `${s.method} ${s.path}`);
    // Attach and wait go out together (either may arrive first); start only after both.
    assert.deepEqual([...routes.slice(0, 4), ...routes.slice(4, 6).sort(), routes[6]], [
      'GET /_ping',
      'POST /containers/create',
      'POST /images/create',
      'POST /containers/create',
      `POST /containers/${ID}/attach`,
      `POST /containers/${ID}/wait`,
      `POST /containers/${ID}/start`,
    ]);
    assert.equal(routes.length, 7);
    assert.ok(d.versions.every((v) => v === '1.43'), `negotiated version used: ${d.versions}`);
    const pull = d.seen[2];
    assert.deepEqual(pull.query, { fromImage: 'busybox', tag: 'latest' });
    const create = d.seen[3];
    assert.equal(create.query.name, 'web');
    assert.equal(create.body.Image, 'busybox');
    assert.deepEqual(create.body.Cmd, ['sh', '-c', 'echo hi']);
    assert.deepEqual(create.body.Env, ['A=1']);
    assert.equal(create.body.AttachStdout, true);
    assert.equal(create.body.AttachStdin, false);
    const attach = d.seen.find((s) => s.path.endsWith('/attach'))!;
    assert.equal(attach.upgrade, true);
    assert.deepEqual(attach.query, { stream: '1', stdin: '0', stdout: '1', stderr: '1' });
    assert.equal(d.seen.find((s) => s.path.endsWith('/wait'))!.query.condition, 'next-exit');
  } finally {
    await d.close();
  }
});

test('run -i: stdin goes to the container and EOF half-closes the attach connection', async () => {
  const d = runDaemon({ exitCode: 0, echoStdin: true, haveImage: true });
  await d.listen();
  try {
    const r = await runBerth(d.host, ['run', '-i', '--rm', 'busybox', 'cat'], 'some input\n');
    assert.equal(r.stdout, 'got:some input\n');
    assert.equal(r.code, 0);
    const create = d.seen.find((s) => s.path === '/containers/create')!;
    assert.equal(create.body.OpenStdin, true);
    assert.equal(create.body.StdinOnce, true);
    assert.equal(create.body.HostConfig.AutoRemove, true);
    assert.equal(d.seen.find((s) => s.path.endsWith('/wait'))!.query.condition, 'removed');
    assert.equal(d.seen.find((s) => s.path.endsWith('/attach'))!.query.stdin, '1');
  } finally {
    await d.close();
  }
});

test('run -d prints the ID and never attaches or waits', async () => {
  const d = runDaemon({ haveImage: true });
  await d.listen();
  try {
    const r = await runBerth(d.host, ['run', '-d', '-p', '8080:80', '--restart', 'on-failure:3', 'busybox', 'sleep', '9']);
    assert.equal(r.stdout, `${ID}\n`);
    assert.equal(r.code, 0);
    assert.deepEqual(d.seen.map((s) => `${s.method} ${s.path}`), ['GET /_ping', 'POST /containers/create', `POST /containers/${ID}/start`]);
    const hc = d.seen[1].body.HostConfig;
    assert.deepEqual(hc.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  } finally {
    await d.close();
  }
});

test('run: a start failure maps to 127 / 126 and prints the daemon message', async () => {
  for (const [msg, code] of [
    ['failed to create task: exec: "nosuch": executable file not found in $PATH: unknown', 127],
    ['failed to create task: exec: "/etc/passwd": permission denied: unknown', 126],
    ['cannot start: something else', 125],
  ] as const) {
    const d = runDaemon({ haveImage: true, startError: msg });
    await d.listen();
    try {
      const r = await runBerth(d.host, ['run', 'busybox', 'x']);
      assert.equal(r.code, code);
      assert.equal(r.stderr, `berth: Error response from daemon: ${msg}.\n`);
    } finally {
      await d.close();
    }
  }
});

test('daemon and usage errors: message, hint and exit code like docker', async () => {
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/containers/create') return reply(res, 409, { message: 'Conflict. The container name "/web" is already in use' });
    if (req.path === '/containers/nope') return reply(res, 404, { message: 'No such container: nope' });
    reply(res, 404, { message: 'page not found' });
  });
  await d.listen();
  try {
    let r = await runBerth(d.host, ['run', '--name', 'web', 'busybox']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "berth: Error response from daemon: Conflict. The container name \"/web\" is already in use.\nSee 'berth run --help'.\n");
    r = await runBerth(d.host, ['rm', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such container: nope\n');
    r = await runBerth(d.host, ['run', '--bogus', 'busybox']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "unknown flag: --bogus\nSee 'berth run --help'.\n");
    r = await runBerth(d.host, ['container', 'ls', '--format', '{{nosuch}}']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /template: :1: function "nosuch" not defined/);
    // Nothing reached the daemon for the bad flag or the bad template.
    assert.equal(d.seen.filter((s) => s.path === '/containers/json').length, 0);
  } finally {
    await d.close();
  }
});

test('host selection: -H beats BERTH_HOST beats DOCKER_HOST; unreachable daemon is reported', async () => {
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    reply(res, 200, []);
  });
  await d.listen();
  const dead = 'unix:///nonexistent/berth-test.sock';
  try {
    let r = await runBerth(null, ['ps', '-q'], undefined, { BERTH_HOST: d.host, DOCKER_HOST: dead });
    assert.equal(r.code, 0, r.stderr);
    r = await runBerth(null, ['ps', '-q'], undefined, { DOCKER_HOST: d.host });
    assert.equal(r.code, 0, r.stderr);
    r = await runBerth(d.host, ['ps', '-q'], undefined, { BERTH_HOST: dead, DOCKER_HOST: dead });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(d.seen.filter((s) => s.path === '/containers/json').length, 3);
    r = await runBerth(null, ['ps'], undefined, { DOCKER_HOST: d.host, BERTH_HOST: dead });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Cannot connect to the Berth daemon at ${dead}. Is the daemon running?\n`);
  } finally {
    await d.close();
  }
});

test('ps: table from /containers/json with the filters and flags sent as Docker does', async () => {
  const now = Math.floor(Date.now() / 1000);
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/containers/json') {
      return reply(res, 200, [{
        Id: ID, Names: ['/web'], Image: 'busybox', Command: 'sleep 100', Created: now - 120, Ports: [], Labels: {},
        State: 'exited', Status: 'Exited (0) 4 minutes ago', SizeRw: 0,
      }]);
    }
    reply(res, 404, { message: 'page not found' });
  });
  await d.listen();
  try {
    const r = await runBerth(d.host, ['ps', '-a', '--filter', 'status=exited', '--filter', 'name=web']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout,
      'CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS                     PORTS     NAMES\n' +
      'ffffffffffff   busybox   "sleep 100"   2 minutes ago   Exited (0) 4 minutes ago             web\n');
    const q = d.seen.find((s) => s.path === '/containers/json')!.query;
    assert.equal(q.all, '1');
    assert.deepEqual(JSON.parse(q.filters), { status: { exited: true }, name: { web: true } });
    const q2 = await runBerth(d.host, ['ps', '-q', '--no-trunc']);
    assert.equal(q2.stdout, `${ID}\n`);
  } finally {
    await d.close();
  }
});

test('exec: create, hijacked start, exit code from /exec/{id}/json', async () => {
  const EXEC = 'e'.repeat(64);
  const d = new FakeDaemon((req, res, socket) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/containers/web/exec') return reply(res, 201, { Id: EXEC });
    if (req.path === `/exec/${EXEC}/start`) {
      switchProtocols(socket!);
      socket!.end(Buffer.concat([encodeFrame(1, 'bar\n'), encodeFrame(2, 'warn\n')]));
      return;
    }
    if (req.path === `/exec/${EXEC}/json`) return reply(res, 200, { ExitCode: 4, Running: false });
    reply(res, 404, { message: 'page not found' });
  });
  await d.listen();
  try {
    const r = await runBerth(d.host, ['exec', '-e', 'X=1', '-w', '/tmp', '-u', 'nobody', 'web', 'sh', '-c', 'echo $FOO; exit 4']);
    assert.equal(r.stdout, 'bar\n');
    assert.equal(r.stderr, 'warn\n');
    assert.equal(r.code, 4);
    const create = d.seen.find((s) => s.path === '/containers/web/exec')!;
    assert.deepEqual(create.body.Cmd, ['sh', '-c', 'echo $FOO; exit 4']);
    assert.deepEqual(create.body.Env, ['X=1']);
    assert.equal(create.body.WorkingDir, '/tmp');
    assert.equal(create.body.User, 'nobody');
    assert.equal(create.body.AttachStdin, false);
    assert.equal(d.seen.find((s) => s.path === `/exec/${EXEC}/start`)!.upgrade, true);
  } finally {
    await d.close();
  }
});

test('inspect: 4-space JSON array, -f per object, missing objects exit 1', async () => {
  const obj = { Id: ID, Name: '/web', State: { Running: true }, Config: { Labels: { k: 'v' } } };
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/containers/web/json') return reply(res, 200, obj);
    reply(res, 404, { message: `No such thing: ${req.path}` });
  });
  await d.listen();
  try {
    let r = await runBerth(d.host, ['inspect', 'web']);
    assert.equal(r.stdout, JSON.stringify([obj], null, 4) + '\n');
    r = await runBerth(d.host, ['inspect', '-f', '{{.State.Running}} {{index .Config.Labels "k"}}', 'web', 'ghost']);
    assert.equal(r.stdout, 'true v\n');
    assert.equal(r.stderr, 'Error: No such object: ghost\n');
    assert.equal(r.code, 1);
  } finally {
    await d.close();
  }
});
