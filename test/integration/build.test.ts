import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as http from 'node:http';
import * as path from 'node:path';
import { berthBin, repoRoot, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { writeTree } from '../helpers/files.js';
import { buildSteps } from '../helpers/build-output.js';

// Real builds on busybox through `berth build` (and the docker CLI's legacy
// builder): every instruction, the image config they leave, the cache and its
// exact invalidation, .dockerignore, multi-stage targets, failures.
let d: TestDaemon;
let work: string;
before(async () => {
  d = await startTestDaemon();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-build-'));
});
after(async () => {
  await d?.cleanup();
  await fs.rm(work, { recursive: true, force: true });
});

/** A context directory under the test's work dir. */
const context = (name: string, files: Record<string, string>) => writeTree(path.join(work, name), files);

function build(args: string[], input?: string) {
  const r = d.berth(['build', ...args], { input, timeoutMs: 120_000 });
  return { ...r, steps: stepsOf(r.stdout) };
}

const stepsOf = buildSteps;

const inspect = async (ref: string) => (await d.api('GET', `/images/${ref}/json`)).body;
const run = (image: string, cmd: string) => d.berth(['run', '--rm', image, 'sh', '-c', cmd]);

test('every instruction: the image config equals what the Dockerfile says, files land with owner and mode', async () => {
  // A tar for ADD to unpack (made with the host's tar so the test does not trust our own writer).
  const src = await context('tarsrc', { 'pkg/lib.txt': 'from the archive\n' });
  const dir = await context('all', {
    'app/main.sh': 'echo main\n',
    'conf.txt': 'conf\n',
    Dockerfile: [
      'ARG BASE=busybox',
      'FROM ${BASE} AS base',
      'MAINTAINER Berth Test <t@example.com>',
      'ENV PLAIN=1 QUOTED="two words"',
      'ENV LEGACY form value',
      'ARG GREETING=hello',
      'LABEL org.example.name="berth test" version=1',
      'EXPOSE 80 53/udp',
      'VOLUME ["/data"]',
      'RUN echo "$GREETING" > /greeting && echo app:x:1234:1234::/:/bin/sh >> /etc/passwd && echo app:x:1234: >> /etc/group',
      'SHELL ["/bin/sh", "-e", "-c"]',
      'RUN echo shell=$0 > /shell.txt',
      'RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]',
      'COPY --chown=app:1234 --chmod=751 app/ /opt/app/',
      'COPY conf.txt /etc/conf/',
      'ADD pkg.tar.gz /srv/',
      'WORKDIR /srv/work',
      'WORKDIR sub',
      'USER app',
      'STOPSIGNAL SIGINT',
      'HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD ["true"]',
      'ONBUILD RUN echo triggered',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["echo hi"]',
    ].join('\n') + '\n',
  });
  const tar = spawnSync('tar', ['czf', path.join(dir, 'pkg.tar.gz'), '-C', src, 'pkg'], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const r = build(['-t', 'bt-all:1', '--build-arg', 'GREETING=bonjour', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^Sending build context to Docker daemon +[\d.]+kB\nStep 1\/24 : ARG BASE=busybox\n/);
  assert.match(r.stdout, /Step 10\/24 : RUN echo "\$GREETING" > \/greeting && echo app:x[^\n]*\n ---> Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/);
  assert.match(r.stdout, /\nSuccessfully built [0-9a-f]{12}\nSuccessfully tagged bt-all:1\n$/);

  const img = await inspect('bt-all:1');
  const c = img.Config;
  assert.deepEqual(c.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PLAIN=1', 'QUOTED=two words', 'LEGACY=form value']);
  assert.deepEqual(c.Labels, { 'org.example.name': 'berth test', version: '1' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.User, 'app');
  assert.equal(c.WorkingDir, '/srv/work/sub');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 4 });
  assert.deepEqual(c.OnBuild, ['RUN echo triggered']);
  assert.deepEqual(c.Shell, ['/bin/sh', '-e', '-c']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(c.Cmd, ['echo hi']);
  assert.equal(img.Author, 'Berth Test <t@example.com>');

  const files = d.berth(['run', '--rm', '--entrypoint', '', '-u', 'root', 'bt-all:1', 'sh', '-c',
    'cat /greeting /shell.txt /exec.txt /etc/conf/conf.txt /srv/pkg/lib.txt; stat -c "%u:%g %a %n" /opt/app/main.sh; pwd']);
  assert.equal(files.code, 0, files.stderr);
  assert.equal(files.stdout, 'bonjour\nshell=/bin/sh\nexec-form\nconf\nfrom the archive\n1234:1234 751 /opt/app/main.sh\n/srv/work/sub\n');
  // The default command goes through the ENTRYPOINT, as the config says.
  assert.equal(d.berth(['run', '--rm', 'bt-all:1']).stdout, 'hi\n');

  // ONBUILD fires in a child build.
  const child = await context('child', { Dockerfile: 'FROM bt-all:1\n' });
  const rc = build(['-t', 'bt-child', child]);
  assert.equal(rc.code, 0, rc.stdout + rc.stderr);
  assert.match(rc.stdout, /# Executing 1 build trigger\n ---> Running in [0-9a-f]{12}\ntriggered\n/);
});

test('history: one row per step, metadata steps without a layer', async () => {
  const dir = await context('hist', { 'f.txt': 'x\n', Dockerfile: 'FROM busybox\nENV A=1\nRUN echo 1 > /one\nCOPY f.txt /\nCMD ["sh"]\n' });
  const r = build(['-t', 'bt-hist', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const base = (await d.api('GET', '/images/busybox/history')).body as unknown[];
  const h = (await d.api('GET', '/images/bt-hist/history')).body as { CreatedBy: string; Size: number; Id: string }[];
  assert.equal(h.length, base.length + 4);
  assert.deepEqual(h.slice(0, 4).map((x) => x.CreatedBy.replace(/file:[0-9a-f]+/, 'file:X')), [
    '/bin/sh -c #(nop)  CMD ["sh"]', '/bin/sh -c #(nop) COPY file:X in / ', '/bin/sh -c echo 1 > /one', '/bin/sh -c #(nop)  ENV A=1',
  ]);
  assert.equal(h[0].Size, 0);
  assert.equal(h[3].Size, 0);
  assert.equal(h[1].Size, 2);
  assert.equal((await inspect('bt-hist')).RootFS.Layers.length, (await inspect('busybox')).RootFS.Layers.length + 2);
});

test('cache: a rebuild is all cache hits; touching one file rebuilds exactly from its COPY on', async () => {
  const dir = await context('cache', {
    'a.txt': 'a\n', 'b.txt': 'b\n',
    Dockerfile: 'FROM busybox\nENV X=1\nRUN echo run1 > /r1\nCOPY a.txt /a.txt\nRUN cat /a.txt > /r2\nCOPY b.txt /b.txt\nCMD ["cat", "/r2"]\n',
  });
  const first = build(['-t', 'bt-cache', dir]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const id1 = (await inspect('bt-cache')).Id;
  const again = build(['-t', 'bt-cache', dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(again.steps.map((s) => s.cached), [false, true, true, true, true, true, true]);
  assert.equal((await inspect('bt-cache')).Id, id1);
  assert.doesNotMatch(again.stdout, /Running in/);

  // Only content counts: a new mtime alone keeps the cache.
  await fs.utimes(path.join(dir, 'b.txt'), new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(build(['-t', 'bt-cache', dir]).steps.map((s) => s.cached), [false, true, true, true, true, true, true]);

  await fs.writeFile(path.join(dir, 'a.txt'), 'changed\n');
  const touched = build(['-t', 'bt-cache', dir]);
  assert.equal(touched.code, 0, touched.stderr);
  assert.deepEqual(touched.steps.map((s) => s.cached), [false, true, true, false, false, false, false]);
  assert.equal(d.berth(['run', '--rm', 'bt-cache']).stdout, 'changed\n');

  // --no-cache runs everything again; a changed build arg invalidates from the first RUN that sees it.
  assert.deepEqual(build(['--no-cache', '-t', 'bt-cache', dir]).steps.map((s) => s.cached), [false, false, false, false, false, false, false]);
  const argDir = await context('cache-arg', { Dockerfile: 'FROM busybox\nARG V=1\nENV E=1\nRUN echo $V\n' });
  assert.equal(build([argDir]).code, 0);
  assert.deepEqual(build(['--build-arg', 'V=2', argDir]).steps.map((s) => s.cached), [false, true, true, false]);
});

test('.dockerignore: excluded files never reach COPY, ! exceptions do', async () => {
  const dir = await context('ignore', {
    'keep.txt': 'k\n', 'secret.key': 's\n', 'logs/a.log': 'a\n', 'logs/important.log': 'i\n', 'deep/x/y.tmp': 't\n', 'deep/x/z.txt': 'z\n',
    '.dockerignore': '*.key\nlogs\n!logs/important.log\n**/*.tmp\n',
    Dockerfile: 'FROM busybox\nCOPY . /ctx/\nCMD ["sh"]\n',
  });
  const r = build(['-t', 'bt-ignore', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const ls = run('bt-ignore', 'cd /ctx && find . -type f | sort');
  assert.equal(ls.stdout, './.dockerignore\n./Dockerfile\n./deep/x/z.txt\n./keep.txt\n./logs/important.log\n');
  // Naming an ignored file is an error that names it.
  const bad = await context('ignore-bad', { 'secret.key': 's\n', '.dockerignore': '*.key\n', Dockerfile: 'FROM busybox\nCOPY secret.key /\n' });
  const rb = build([bad]);
  assert.notEqual(rb.code, 0);
  assert.match(rb.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat secret\.key: file does not exist/);
});

test('multi-stage: --target builds only the stages it needs; COPY --from a stage and an image', async () => {
  const dir = await context('multi', {
    Dockerfile: [
      'FROM busybox AS builder',
      'RUN echo built > /artifact',
      'FROM busybox AS broken',
      'RUN echo this stage must not run && false',
      'FROM busybox AS final',
      'COPY --from=builder /artifact /artifact',
      'COPY --from=busybox /bin/busybox /copied-busybox',
      'CMD ["cat", "/artifact"]',
      'FROM final AS extra',
      'RUN false',
    ].join('\n') + '\n',
  });
  const r = build(['--target', 'final', '-t', 'bt-multi', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /must not run/);
  assert.deepEqual(r.steps.map((s) => s.step), ['FROM busybox AS builder', 'RUN echo built > /artifact', 'FROM busybox AS final',
    'COPY --from=builder /artifact /artifact', 'COPY --from=busybox /bin/busybox /copied-busybox', 'CMD ["cat", "/artifact"]']);
  assert.equal(d.berth(['run', '--rm', 'bt-multi']).stdout, 'built\n');
  assert.equal(run('bt-multi', 'test -x /copied-busybox && echo ok').stdout, 'ok\n');
  const unknown = build(['--target', 'nope', dir]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /failed to reach build target nope in Dockerfile/);
});

test('a failing RUN reports command and exit code, and the old tag stays', async () => {
  const good = await context('fail-good', { Dockerfile: 'FROM busybox\nRUN echo v1 > /v\nCMD ["cat", "/v"]\n' });
  assert.equal(build(['-t', 'bt-fail', good]).code, 0);
  const before = (await inspect('bt-fail')).Id;
  const bad = await context('fail-bad', { Dockerfile: 'FROM busybox\nRUN echo partial > /v && exit 3\n' });
  const r = build(['-t', 'bt-fail', bad]);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /Step 2\/2 : RUN echo partial > \/v && exit 3\n ---> Running in [0-9a-f]{12}\n/);
  assert.match(r.stderr, /The command '\/bin\/sh -c echo partial > \/v && exit 3' returned a non-zero code: 3/);
  assert.equal((await inspect('bt-fail')).Id, before);
  assert.equal(d.berth(['run', '--rm', 'bt-fail']).stdout, 'v1\n');
  // A Dockerfile error stops the build before anything runs.
  const syntax = await context('fail-syntax', { Dockerfile: 'FROM busybox\nRUN echo x\nFOO bar\n' });
  const rs = build([syntax]);
  assert.notEqual(rs.code, 0);
  assert.doesNotMatch(rs.stdout, /Running in/);
  assert.match(rs.stderr, /Dockerfile:3/);
});

test('build from stdin (-), -f outside the context, -q and --iidfile', async () => {
  const r = build(['-t', 'bt-stdin', '-'], 'FROM busybox\nCMD ["echo", "from stdin"]\n');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(d.berth(['run', '--rm', 'bt-stdin']).stdout, 'from stdin\n');
  const dir = await context('outside', { 'data.txt': 'outside-df\n' });
  const df = path.join(work, 'Other.Dockerfile');
  await fs.writeFile(df, 'FROM busybox\nCOPY data.txt /\nCMD ["cat", "/data.txt"]\n');
  const iid = path.join(work, 'iid');
  const q = build(['-q', '-f', df, '--iidfile', iid, '-t', 'bt-outside', dir]);
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(await fs.readFile(iid, 'utf8'), q.stdout.trim());
  assert.equal(d.berth(['run', '--rm', 'bt-outside']).stdout, 'outside-df\n');
});

const hasDocker = spawnSync('docker', ['--version']).status === 0;
test('the docker CLI (legacy builder) builds through the API', { skip: !hasDocker && 'docker CLI not installed' }, async () => {
  const dir = await context('docker-cli', { 'f.txt': 'via docker\n', Dockerfile: 'FROM busybox\nCOPY f.txt /\nRUN cat /f.txt\nCMD ["cat", "/f.txt"]\n' });
  const env = { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_HOST: '' };
  const r = spawnSync('docker', ['-H', d.host, 'build', '-t', 'bt-docker', dir], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Sending build context to Docker daemon/);
  assert.match(r.stdout, /Step 3\/4 : RUN cat \/f.txt\n ---> Running in [0-9a-f]{12}\nvia docker\n/);
  assert.match(r.stdout, /Successfully tagged bt-docker:latest\n/);
  const df = path.join(work, 'docker.Dockerfile');
  await fs.writeFile(df, 'FROM busybox\nRUN exit 7\n');
  const bad = spawnSync('docker', ['-H', d.host, 'build', '-f', df, dir], { encoding: 'utf8', env });
  assert.equal(bad.status, 7);
  assert.match(bad.stderr, /The command '\/bin\/sh -c exit 7' returned a non-zero code: 7/);
});

const hasCompose = spawnSync('docker-compose', ['--version']).status === 0;
test('docker-compose 1.29 build (its own API client, not the docker CLI)', { skip: !hasCompose && 'docker-compose not installed' }, async () => {
  const dir = await context('compose', {
    Dockerfile: 'FROM busybox\nRUN echo compose-built > /c\nCMD ["cat", "/c"]\n',
    'docker-compose.yml': 'version: "2"\nservices:\n  web:\n    build: .\n    image: bt-compose-web\n',
  });
  const r = spawnSync('docker-compose', ['-p', 'btcompose', 'build'], {
    cwd: dir, encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, DOCKER_HOST: d.host, COMPOSE_DOCKER_CLI_BUILD: '0' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /Step 2\/3 : RUN echo compose-built > \/c\n ---> Running in [0-9a-f]{12}\n/);
  assert.match(r.stdout + r.stderr, /Successfully tagged bt-compose-web:latest/);
  assert.equal(d.berth(['run', '--rm', 'bt-compose-web']).stdout, 'compose-built\n');
});

test('RUN heredocs (plain and #! script); --network none, --add-host and --shm-size reach the RUN containers', async () => {
  const dir = await context('run-opts', {
    Dockerfile: [
      'FROM busybox',
      'RUN <<EOF',
      'echo plain heredoc > /plain',
      'EOF',
      'RUN <<EOT',
      '#!/bin/sh',
      'echo "script ran as $0" > /script',
      'EOT',
      'RUN grep myhost /etc/hosts > /hosts; tail -n +3 /proc/net/dev | wc -l > /links; df -k /dev/shm | tail -1 | awk \'{print $2}\' > /shm',
      'CMD ["cat", "/plain", "/script", "/hosts", "/links", "/shm"]',
    ].join('\n') + '\n',
  });
  const r = build(['--network', 'none', '--add-host', 'myhost:10.1.2.3', '--shm-size', '16m', '-t', 'bt-run-opts', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // Only the loopback interface without a network; the extra host and the shm size as asked.
  assert.equal(d.berth(['run', '--rm', 'bt-run-opts']).stdout, 'plain heredoc\nscript ran as /dev/pipes/EOT\n10.1.2.3\tmyhost\n1\n16384\n');
});

/** POSTs a raw body to /build and returns status and the JSON lines. */
function postBuild(query: string, body: Buffer): Promise<{ status: number; lines: any[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: `/v1.41/build?${query}`, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const lines = text.split('\n').filter((l) => l.trim()).map((l) => { try { return JSON.parse(l); } catch { return l; } });
        resolve({ status: res.statusCode ?? 0, lines });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the API: a bare Dockerfile body, a bad tag is a 400, run-time errors are errorDetail lines; only a failed RUN keeps its container', async () => {
  const ok = await postBuild('t=bt-api', Buffer.from('FROM busybox\nLABEL via=api\n'));
  assert.equal(ok.status, 200);
  const aux = ok.lines.find((l) => l.aux);
  assert.match(aux.aux.ID, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(ok.lines.filter((l) => l.stream).map((l) => l.stream).slice(-2), [`Successfully built ${aux.aux.ID.slice(7, 19)}\n`, 'Successfully tagged bt-api:latest\n']);

  const badTag = await postBuild('t=Bad:tag:x', Buffer.from('FROM busybox\n'));
  assert.equal(badTag.status, 400);

  const before = (await d.api('GET', '/containers/json?all=1')).body.length;
  const badUser = await postBuild('', Buffer.from('FROM busybox\nUSER nosuchuser\nRUN true\n'));
  assert.equal(badUser.status, 200);
  const err = badUser.lines.find((l) => l.errorDetail);
  assert.match(err.error, /nosuchuser/);
  const badNet = await postBuild('networkmode=bt-no-such-net', Buffer.from('FROM busybox\nRUN true\n'));
  assert.match(badNet.lines.find((l) => l.errorDetail).error, /bt-no-such-net/);
  const failing = await postBuild('', Buffer.from('FROM busybox\nRUN exit 4\n'));
  assert.deepEqual(failing.lines.find((l) => l.errorDetail).errorDetail, { code: 4, message: "The command '/bin/sh -c exit 4' returned a non-zero code: 4" });
  // The failed RUN's container stays (as Docker keeps it without --force-rm); the others never existed.
  assert.equal((await d.api('GET', '/containers/json?all=1')).body.length, before + 1);
  const forced = await postBuild('forcerm=1', Buffer.from('FROM busybox\nRUN exit 5\n'));
  assert.ok(forced.lines.some((l) => /^Removing intermediate container/.test(l.stream ?? '')));
  assert.equal((await d.api('GET', '/containers/json?all=1')).body.length, before + 1);
  assert.equal((await d.api('GET', '/_ping')).status, 200);
});

test('a gzip-compressed context tar on stdin (build - < ctx.tar.gz)', async () => {
  const dir = await context('gz', { 'g.txt': 'from gzip\n', Dockerfile: 'FROM busybox\nCOPY g.txt /\nCMD ["cat", "/g.txt"]\n' });
  const tgz = path.join(work, 'ctx.tar.gz');
  assert.equal(spawnSync('tar', ['czf', tgz, '-C', dir, '.']).status, 0);
  const out = spawnSync('sh', ['-c', `"${process.execPath}" "${berthBin}" build -q -t bt-gz - < "${tgz}"`], {
    encoding: 'utf8', env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: '' },
  });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(d.berth(['run', '--rm', 'bt-gz']).stdout, 'from gzip\n');
});

test('a tarball as PATH (build ctx.tar, build -f Other ctx.tar.gz)', async () => {
  const dir = await context('tarball', {
    't.txt': 'from a tarball\n',
    Dockerfile: 'FROM busybox\nCOPY t.txt /\nCMD ["cat", "/t.txt"]\n',
    Other: 'FROM busybox\nCMD ["echo", "other dockerfile"]\n',
  });
  const plain = path.join(work, 'ctx-path.tar');
  const gz = path.join(work, 'ctx-path.tar.gz');
  assert.equal(spawnSync('tar', ['cf', plain, '-C', dir, '.']).status, 0);
  assert.equal(spawnSync('tar', ['czf', gz, '-C', dir, '.']).status, 0);
  const r = d.berth(['build', '-t', 'bt-tarball', plain]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Sending build context to Docker daemon/);
  assert.equal(d.berth(['run', '--rm', 'bt-tarball']).stdout, 'from a tarball\n');
  const other = d.berth(['build', '-q', '-t', 'bt-tarball-other', '-f', 'Other', gz]);
  assert.equal(other.code, 0, other.stderr);
  assert.equal(d.berth(['run', '--rm', 'bt-tarball-other']).stdout, 'other dockerfile\n');
});
