import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addContainerFlags, buildCreateBody } from './container-flags.js';
import { UsageError } from './parse-values.js';

/** Parses argv exactly as `berth run` does and builds the create body. */
function body(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const cmd = addContainerFlags(new Command('run').helpOption('--help').argument('[args...]').passThroughOptions().exitOverride());
  cmd.option('-d, --detach');
  cmd.parse(argv, { from: 'user' });
  const [image, ...args] = cmd.args;
  return buildCreateBody(image, args, cmd.opts(), env);
}

test('image, command and options stop at the image: run -ti busybox sh -c "x"', () => {
  const b = body(['-ti', '--rm', 'busybox', 'sh', '-c', 'echo -n hi', '-e', 'X']);
  assert.equal(b.Image, 'busybox');
  assert.deepEqual(b.Cmd, ['sh', '-c', 'echo -n hi', '-e', 'X']);
  assert.equal(b.Tty, true);
  assert.equal(b.OpenStdin, true);
  assert.equal(b.AttachStdin, true);
  assert.equal(b.StdinOnce, true);
  assert.equal(b.HostConfig.AutoRemove, true);
  assert.deepEqual(b.Env, []);
  assert.equal(b.Cmd && body(['busybox']).Cmd, null);
});

test('-d attaches nothing; default attaches stdout and stderr', () => {
  const d = body(['-d', 'busybox']);
  assert.deepEqual([d.AttachStdin, d.AttachStdout, d.AttachStderr], [false, false, false]);
  const f = body(['busybox']);
  assert.deepEqual([f.AttachStdin, f.AttachStdout, f.AttachStderr], [false, true, true]);
  const a = body(['-a', 'stderr', 'busybox']);
  assert.deepEqual([a.AttachStdin, a.AttachStdout, a.AttachStderr], [false, false, true]);
});

test('-e, --env-file, -l, --label-file (env file first, bare names from our environment)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-flags-'));
  try {
    writeFileSync(join(dir, 'env'), '# comment\n\nFROM_FILE=1\nPASSED\nUNSET_VAR\n');
    writeFileSync(join(dir, 'labels'), 'a=1\nb\n');
    const b = body(['-e', 'A=1', '--env', 'B=x=y', '-e', 'HOMEVAR', '--env-file', join(dir, 'env'), '-l', 'k=v', '--label', 'flag',
      '--label-file', join(dir, 'labels'), 'busybox'], { HOMEVAR: '/root', PASSED: 'p' });
    assert.deepEqual(b.Env, ['FROM_FILE=1', 'PASSED=p', 'UNSET_VAR', 'A=1', 'B=x=y', 'HOMEVAR=/root']);
    assert.deepEqual(b.Labels, { a: '1', b: '', k: 'v', flag: '' });
    assert.throws(() => body(['--env-file', join(dir, 'nope'), 'busybox']), /no such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-p and --expose fill ExposedPorts and PortBindings', () => {
  const b = body(['-p', '8080:80', '-p', '127.0.0.1:5353:53/udp', '-p', '9000', '-p', '127.0.0.1::22', '-p', '7000-7001:7000-7001', '--expose', '3000', 'busybox']);
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '22/tcp': {}, '7000/tcp': {}, '7001/tcp': {}, '3000/tcp': {} });
  assert.deepEqual(b.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    '9000/tcp': [{ HostIp: '', HostPort: '' }],
    '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '7000/tcp': [{ HostIp: '', HostPort: '7000' }],
    '7001/tcp': [{ HostIp: '', HostPort: '7001' }],
  });
  assert.throws(() => body(['-p', 'abc', 'busybox']), (e: Error) => e instanceof UsageError && e.message === 'invalid containerPort: abc');
  assert.throws(() => body(['-p', '1-3:1-2', 'busybox']), /invalid ranges specified/);
});

test("the seed's --port 8000:80 publishes like -p", () => {
  const b = body(['-d', '--port', '8000:80', 'busybox']);
  assert.deepEqual(b.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8000' }] });
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {} });
});

test('-v binds, anonymous volumes, --tmpfs and --mount', () => {
  const b = body(['-v', '/src:/dst:ro', '-v', 'named:/data', '-v', '/anon', '--tmpfs', '/run:size=64m', '--mount', 'type=bind,source=/a,target=/b,readonly', 'busybox']);
  assert.deepEqual(b.HostConfig.Binds, ['/src:/dst:ro', 'named:/data']);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.deepEqual(b.HostConfig.Tmpfs, { '/run': 'size=64m' });
  assert.deepEqual(b.HostConfig.Mounts, [{ Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true }]);
  assert.throws(() => body(['-v', 'relative', 'busybox']), /mount path must be absolute/);
  assert.deepEqual(body(['-v', './here:/x:ro', 'busybox']).HostConfig.Binds, [`${process.cwd()}/here:/x:ro`]);
  assert.throws(() => body(['-v', '/a:/b:bogus', 'busybox']), /invalid mode: bogus/);
});

test('--restart, --ulimit, capabilities, security and resources', () => {
  const b = body(['--restart', 'on-failure:3', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=64', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges', '--read-only', '--privileged', '--init', '-m', '512m', '--cpus', '1.5', '--pids-limit', '100',
    '--stop-signal', 'SIGUSR1', '--stop-timeout', '5', '-u', '1000:1000', '-w', '/tmp', '-h', 'box', '--entrypoint', '', '--network', 'none',
    '--add-host', 'db:10.0.0.2', '--dns', '1.1.1.1', '--sysctl', 'net.ipv4.ip_forward=1', '--shm-size', '1g', 'busybox']);
  assert.deepEqual(b.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(b.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 64, Hard: 64 }]);
  assert.deepEqual(b.HostConfig.CapAdd, ['CAP_NET_ADMIN']);
  assert.deepEqual(b.HostConfig.CapDrop, ['ALL']);
  assert.deepEqual(b.HostConfig.SecurityOpt, ['no-new-privileges']);
  assert.equal(b.HostConfig.ReadonlyRootfs, true);
  assert.equal(b.HostConfig.Privileged, true);
  assert.equal(b.HostConfig.Init, true);
  assert.equal(b.HostConfig.Memory, 512 * 1024 * 1024);
  assert.equal(b.HostConfig.NanoCpus, 1_500_000_000);
  assert.equal(b.HostConfig.PidsLimit, 100);
  assert.equal(b.HostConfig.ShmSize, 1024 ** 3);
  assert.equal(b.HostConfig.NetworkMode, 'none');
  assert.deepEqual(b.HostConfig.ExtraHosts, ['db:10.0.0.2']);
  assert.deepEqual(b.HostConfig.Dns, ['1.1.1.1']);
  assert.deepEqual(b.HostConfig.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.equal(b.StopSignal, 'SIGUSR1');
  assert.equal(b.StopTimeout, 5);
  assert.equal(b.User, '1000:1000');
  assert.equal(b.WorkingDir, '/tmp');
  assert.equal(b.Hostname, 'box');
  assert.deepEqual(b.Entrypoint, ['']);
  assert.deepEqual(body(['--restart', 'unless-stopped', 'busybox']).HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
});

test('bad values are usage errors with Docker wording', () => {
  const msg = (argv: string[]) => { try { body(argv); return ''; } catch (e) { assert.ok(e instanceof UsageError, String(e)); return (e as Error).message; } };
  assert.equal(msg(['--restart', 'sometimes', 'busybox']), "invalid restart policy 'sometimes'");
  assert.equal(msg(['--restart', 'always:3', 'busybox']), "invalid restart policy format: maximum retry count can only be used with 'on-failure'");
  assert.equal(msg(['--rm', '--restart', 'always', 'busybox']), 'Conflicting options: cannot specify both --restart and --rm');
  assert.equal(msg(['--ulimit', 'bogus=1', 'busybox']), 'invalid ulimit type: bogus');
  assert.equal(msg(['--ulimit', 'nofile=10:5', 'busybox']), 'ulimit soft limit must be less than or equal to hard limit: 10 > 5');
  assert.equal(msg(['-m', 'lots', 'busybox']), "invalid size: 'lots'");
  assert.equal(msg(['--cpus', 'two', 'busybox']), 'invalid argument "two" for "--cpus" flag: failed to parse two as a rational number');
  assert.equal(msg(['Busybox']), 'invalid reference format: repository name (library/Busybox) must be lowercase');
  assert.equal(msg(['bad image']), 'invalid reference format');
  assert.equal(msg(['busybox:a:b']), 'invalid reference format');
  assert.equal(msg(['-d', '-a', 'stdout', 'busybox']), 'Conflicting options: -a and -d');
  assert.equal(msg(['localhost:5000/team/app:1.0']), '');
});

test("--security-opt seccomp=FILE: the file's JSON is sent; a malformed file fails as the docker CLI does", () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-flag-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(good, '{"defaultAction":"SCMP_ACT_ALLOW"}');
    assert.deepEqual(body(['--security-opt', `seccomp=${good}`, 'busybox']).HostConfig.SecurityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"a":1,}');
    assert.throws(() => body(['--security-opt', `seccomp=${bad}`, 'busybox']),
      { message: `compacting json for seccomp profile (${bad}) failed: invalid character '}' looking for beginning of object key string` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
