import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerConfig } from '../containers/types.js';
import { parseStages } from './dockerfile/instructions.js';
import { DockerfileError } from './dockerfile/errors.js';
import { planBuild, requiredImages, type PlanOptions, type Step } from './plan.js';
import { DEFAULT_PATH } from './steps.js';

const busybox: ContainerConfig = { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] };

function plan(text: string, opts: PlanOptions = {}, configs: Record<string, ContainerConfig> = {}) {
  const df = parseStages(text);
  const baseConfigs = new Map(requiredImages(df, opts).map((r) => [r, configs[r] ?? busybox]));
  return planBuild(df, { ...opts, baseConfigs });
}
const displays = (steps: Step[]) => steps.filter((s) => s.display).map((s) => s.display);
const last = (steps: Step[]) => steps[steps.length - 1];
function planError(text: string, opts: PlanOptions = {}, configs: Record<string, ContainerConfig> = {}): string {
  try {
    plan(text, opts, configs);
  } catch (e) {
    assert.ok(e instanceof DockerfileError, String(e));
    return e.message;
  }
  return assert.fail('expected an error');
}

test('steps are numbered as the legacy builder prints them, global ARGs included', () => {
  const p = plan('ARG TAG=1\nFROM busybox:$TAG\nMAINTAINER Victor Vieux <victor@docker.com>\nRUN apt-get update && \\\n    apt-get install -y nginx\nCMD ["nginx"]\n');
  assert.deepEqual(displays(p.steps), [
    'Step 1/5 : ARG TAG=1',
    'Step 2/5 : FROM busybox:$TAG',
    'Step 3/5 : MAINTAINER Victor Vieux <victor@docker.com>',
    'Step 4/5 : RUN apt-get update &&     apt-get install -y nginx',
    'Step 5/5 : CMD ["nginx"]',
  ]);
  assert.deepEqual(p.steps.map((s) => s.kind), ['meta-arg', 'from', 'config', 'run', 'config']);
  assert.deepEqual((p.steps[1] as any).base, { image: 'busybox:1' });
  assert.equal(p.steps[2].author, 'Victor Vieux <victor@docker.com>');
  assert.equal(p.total, 5);
});

test('the image config follows every instruction', () => {
  const p = plan([
    'FROM busybox',
    'ENV A=1 B="two words"',
    'ENV A=3',
    'LABEL version="$A" "com.example.name"=app',
    'EXPOSE 80 53/udp 8000-8001',
    'VOLUME /data ["/logs"]',
    'VOLUME ["/cache"]',
    'USER nobody',
    'WORKDIR /app',
    'WORKDIR sub/../lib',
    'STOPSIGNAL SIGQUIT',
    'HEALTHCHECK --interval=5s CMD wget -q localhost',
    'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
    'CMD run $A',
    'ONBUILD RUN echo child',
  ].join('\n'));
  const c = last(p.steps).config;
  assert.deepEqual(c.Env, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'A=3', 'B=two words']);
  assert.deepEqual(c.Labels, { version: '3', 'com.example.name': 'app' });
  assert.deepEqual(Object.keys(c.ExposedPorts!).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(Object.keys(c.Volumes!), ['/data', '[/logs]', '/cache'], 'not JSON: split on spaces, quotes removed');
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/app/lib');
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9 });
  assert.deepEqual(c.Shell, ['/bin/ash', '-eo', 'pipefail', '-c']);
  assert.deepEqual(c.Cmd, ['/bin/ash', '-eo', 'pipefail', '-c', 'run $A'], 'CMD is not expanded, runs under SHELL');
  assert.deepEqual(c.OnBuild, ['RUN echo child']);
  assert.deepEqual(c.Entrypoint, undefined);
});

test('ENTRYPOINT clears an inherited CMD but keeps one set in the stage', () => {
  let c = last(plan('FROM busybox\nENTRYPOINT ["top"]\n').steps).config;
  assert.deepEqual([c.Entrypoint, c.Cmd], [['top'], null]);
  c = last(plan('FROM busybox\nCMD ["-b"]\nENTRYPOINT top\n').steps).config;
  assert.deepEqual([c.Entrypoint, c.Cmd], [['/bin/sh', '-c', 'top'], ['-b']]);
});

test('history text: #(nop) for metadata, |N args for RUN, WORKDIR and COPY', () => {
  const p = plan('FROM busybox\nARG V=1\nENV A=$V\nRUN echo $A\nRUN ["ls", "-l"]\nWORKDIR app\nCOPY . .\nEXPOSE 80\nCMD echo\n', { buildArgs: { V: '2' } });
  const by = p.steps.slice(1).map((s) => s.createdBy);
  assert.deepEqual(by, [
    '/bin/sh -c #(nop)  ARG V=1',
    '/bin/sh -c #(nop)  ENV A=2',
    '|1 V=2 /bin/sh -c echo $A',
    '|1 V=2 ls -l',
    '/bin/sh -c #(nop) WORKDIR /app',
    '/bin/sh -c #(nop) COPY',
    '/bin/sh -c #(nop)  EXPOSE 80',
    '/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo"]',
  ]);
  const copy = p.steps[6] as Extract<Step, { kind: 'copy' }>;
  assert.equal(copy.dest, '/app');
});

test('ARG scope: globals only reach FROM unless re-declared; options beat defaults; ENV beats ARG', () => {
  const df = [
    'ARG BASE=busybox',
    'ARG G=global',
    'FROM $BASE',
    'ENV SEEN_BEFORE=[$G]',
    'ARG G',
    'ARG L=local',
    'ENV SEEN_AFTER=[$G] L2=$L',
    'ENV L=env',
    'ARG L=again',
    'WORKDIR /$L',
  ].join('\n');
  let c = last(plan(df).steps).config;
  assert.deepEqual(c.Env!.slice(1), ['SEEN_BEFORE=[]', 'SEEN_AFTER=[global]', 'L2=local', 'L=env']);
  assert.equal(c.WorkingDir, '/env');
  c = last(plan(df, { buildArgs: { G: 'opt', L: 'optL', BASE: 'alpine' } }, { alpine: { Env: ['PATH=/x'] } }).steps).config;
  assert.deepEqual(c.Env, ['PATH=/x', 'SEEN_BEFORE=[]', 'SEEN_AFTER=[opt]', 'L2=optL', 'L=env']);
});

test('an ARG without any value stays unset; ${x:-default} applies', () => {
  const c = last(plan('FROM busybox\nARG X\nENV Y=${X:-dflt} Z=${X+set}\n').steps).config;
  assert.deepEqual(c.Env!.slice(1), ['Y=dflt', 'Z=']);
});

test('RUN sees build args in its environment; proxies stay out of history unless declared', () => {
  const p = plan('FROM busybox\nARG A=1\nENV A_ENV=x\nRUN make\n', { buildArgs: { http_proxy: 'http://p:3128', A: '5' } });
  const run = last(p.steps) as Extract<Step, { kind: 'run' }>;
  assert.deepEqual(run.argv, ['/bin/sh', '-c', 'make']);
  assert.deepEqual(run.env.sort(), ['A=5', 'A_ENV=x', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'http_proxy=http://p:3128']);
  assert.equal(run.createdBy, '|1 A=5 /bin/sh -c make');
  assert.deepEqual(run.buildArgs, { A: '5' });
  assert.equal(run.config.Env!.some((e) => e.startsWith('A=')), false, 'build args are not persisted in the image');
  const declared = last(plan('FROM busybox\nARG http_proxy\nRUN make\n', { buildArgs: { http_proxy: 'h' } }).steps);
  assert.equal(declared.createdBy, '|1 http_proxy=h /bin/sh -c make');
});

test('unused build args produce the legacy warning; proxies and global ARGs count as used', () => {
  let p = plan('ARG USED_GLOBALLY\nFROM busybox\nARG X\nRUN true\n', { buildArgs: { X: '1', ZZ: '2', AA: null, HTTPS_PROXY: 'p', USED_GLOBALLY: 'y' } });
  assert.equal(p.unusedArgsWarning, '[Warning] One or more build-args [AA ZZ] were not consumed');
  p = plan('FROM busybox\nARG X\n', { buildArgs: { X: '1' } });
  assert.equal(p.unusedArgsWarning, undefined);
});

test('--target builds only the stages it needs, through FROM <stage> and COPY --from', () => {
  const df = [
    'FROM busybox AS deps',         // 0
    'RUN fetch',
    'FROM busybox AS unrelated',    // 1
    'RUN slow',
    'FROM deps AS build',           // 2
    'RUN make',
    'FROM busybox AS assets',       // 3
    'RUN gen',
    'FROM scratch AS final',        // 4
    'COPY --from=build /out /bin/app',
    'COPY --from=3 /assets /assets',
    'FROM busybox AS test',         // 5
    'RUN test',
  ].join('\n');
  const p = plan(df, { target: 'final' });
  assert.deepEqual(p.stages, [0, 2, 3, 4]);
  assert.equal(p.target, 4);
  assert.equal(p.total, 9);
  assert.deepEqual(displays(p.steps), [
    'Step 1/9 : FROM busybox AS deps', 'Step 2/9 : RUN fetch',
    'Step 3/9 : FROM deps AS build', 'Step 4/9 : RUN make',
    'Step 5/9 : FROM busybox AS assets', 'Step 6/9 : RUN gen',
    'Step 7/9 : FROM scratch AS final', 'Step 8/9 : COPY --from=build /out /bin/app', 'Step 9/9 : COPY --from=3 /assets /assets',
  ]);
  const froms = p.steps.filter((s) => s.kind === 'from').map((s) => (s as any).base);
  assert.deepEqual(froms, [{ image: 'busybox' }, { stage: 0 }, { image: 'busybox' }, { scratch: true }]);
  const copies = p.steps.filter((s) => s.kind === 'copy').map((s) => (s as any).from);
  assert.deepEqual(copies, [{ stage: 2 }, { stage: 3 }]);
  // Scratch gets the default PATH; a stage built FROM another inherits its config.
  assert.deepEqual(p.steps[6].config.Env, [`PATH=${DEFAULT_PATH}`]);
  // Default target is the last stage; it needs nothing else.
  assert.deepEqual(plan(df).stages, [5]);
  assert.equal(planError(df, { target: 'nope' }), 'Dockerfile:1: failed to reach build target nope in Dockerfile');
});

test('requiredImages lists bases and COPY --from images of needed stages only', () => {
  const df = parseStages('ARG V=3\nFROM debian:$V AS a\nFROM busybox AS b\nCOPY --from=nginx:1 /etc/nginx /n\nCOPY --from=a /x /y\nFROM a\n');
  assert.deepEqual(requiredImages(df, { target: 'b' }).sort(), ['busybox', 'debian:3', 'nginx:1']);
  assert.deepEqual(requiredImages(df), ['debian:3']);
  assert.deepEqual(requiredImages(df, { buildArgs: { V: '4' } }), ['debian:4']);
});

test('ONBUILD triggers of the base image run right after FROM, without a step number', () => {
  const parent: ContainerConfig = { Env: ['PATH=/bin'], OnBuild: ['COPY . /src', 'RUN <<EOF\nmake\nEOF'] };
  const p = plan('FROM parent\nRUN ls\n', {}, { parent });
  assert.deepEqual(p.steps.map((s) => [s.kind, s.display]), [
    ['from', 'Step 1/2 : FROM parent'],
    ['copy', '# Executing 2 build triggers'],
    ['run', undefined],
    ['run', 'Step 2/2 : RUN ls'],
  ]);
  assert.deepEqual((p.steps[2] as any).argv, ['/bin/sh', '-c', 'make\n']);
  assert.equal(p.steps[1].config.OnBuild, null, 'triggers are consumed, not inherited');
  // Triggers declared in an earlier stage fire in a stage built FROM it.
  const q = plan('FROM busybox AS base\nONBUILD RUN echo hi\nFROM base\n');
  assert.deepEqual(q.steps.map((s) => [s.kind, s.display]), [
    ['from', 'Step 1/3 : FROM busybox AS base'], ['config', 'Step 2/3 : ONBUILD RUN echo hi'],
    ['from', 'Step 3/3 : FROM base'], ['run', '# Executing 1 build trigger'],
  ]);
  assert.match(planError('FROM p\n', {}, { p: { OnBuild: ['BOGUS x'] } }), /^Dockerfile:1: unknown instruction: BOGUS$/);
});

test('RUN heredocs: a lone heredoc runs its body; a #! body runs as a file; mixed ones go to the shell', () => {
  const p = plan('FROM busybox\nRUN <<EOF\necho a\nEOF\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nRUN cat <<A >/x\nbody\nA\n');
  const runs = p.steps.filter((s) => s.kind === 'run') as Extract<Step, { kind: 'run' }>[];
  assert.deepEqual(runs[0].argv, ['/bin/sh', '-c', 'echo a\n']);
  assert.deepEqual(runs[1].argv, ['/dev/pipes/EOF']);
  assert.deepEqual(runs[1].files, [{ path: '/dev/pipes/EOF', data: '#!/usr/bin/env python3\nprint(1)\n', mode: 0o755 }]);
  assert.deepEqual(runs[2].argv, ['/bin/sh', '-c', 'cat <<A >/x\nbody\nA']);
});

test('COPY/ADD: expansion, destination against WORKDIR, trailing slash kept, heredoc bodies expanded unless quoted', () => {
  const p = plan([
    'FROM busybox', 'ARG D=conf', 'WORKDIR /srv', 'COPY --chown=$D:$D --chmod=640 ${D}/*.ini $D/', 'ADD a.tar /opt/',
    'COPY <<EOF <<"RAW" /etc/', 'dir=$D "q"', 'EOF', 'dir=$D', 'RAW',
  ].join('\n'));
  const [c1, c2, c3] = p.steps.filter((s) => s.kind === 'copy') as Extract<Step, { kind: 'copy' }>[];
  assert.deepEqual([c1.sources, c1.dest, c1.chown, c1.chmod, c1.add], [['conf/*.ini'], '/srv/conf/', 'conf:conf', '640', false]);
  assert.deepEqual([c2.sources, c2.urls, c2.dest, c2.add], [['a.tar'], [], '/opt/', true]);
  const [add] = plan('FROM busybox\nADD https://example.com/x.tgz local.txt /d/\nCOPY http://no/url /e/\n').steps.filter((s) => s.kind === 'copy') as Extract<Step, { kind: 'copy' }>[];
  assert.deepEqual([add.sources, add.urls], [['local.txt'], ['https://example.com/x.tgz']]);
  assert.deepEqual(c3.inline, [{ name: 'EOF', data: 'dir=conf "q"\n', expand: true }, { name: 'RAW', data: 'dir=$D\n', expand: false }]);
});

test('planning errors carry the line of the instruction', () => {
  assert.equal(planError('FROM busybox\n\nENV A=${B\n'), `Dockerfile:3: failed to process "\${B": syntax error: missing '}'`);
  assert.equal(planError('ARG B\nFROM ${B}\n'), 'Dockerfile:2: base name (${B}) should not be blank');
  assert.equal(planError('FROM busybox\nSTOPSIGNAL SIGNOPE\n'), 'Dockerfile:2: Invalid signal: SIGNOPE');
  assert.equal(planError('FROM busybox AS a\nFROM busybox AS a\n'), 'Dockerfile:2: a stage name already used');
  assert.equal(planError('FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\n', { target: 'a' }),
    'Dockerfile:2: cannot copy from stage "b", it needs to be defined before current stage "a"');
  assert.equal(planError('FROM busybox\nCOPY --from=0 /x /y\n'), 'Dockerfile:2: invalid stage index 0');
  assert.equal(planError('FROM busybox\nEXPOSE 80/xyz\n'), 'Dockerfile:2: invalid containerPort: 80/xyz');
  assert.equal(planError('FROM busybox\nCOPY --chmod=u+x a b\n'), 'Dockerfile:2: invalid chmod parameter: u+x');
});

test("the seed's Dockerfiles plan as Docker would build them", () => {
  const nginx = [
    '# Nginx', '#', '# VERSION               0.0.1', 'FROM      ubuntu', 'MAINTAINER Victor Vieux <victor@docker.com>',
    'RUN apt-get qq update && \\', '    apt-get install -y inotify-tools nginx apache2 openssh-server',
  ].join('\n');
  let p = plan(nginx, {}, { ubuntu: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['bash'] } });
  assert.deepEqual(displays(p.steps), [
    'Step 1/3 : FROM      ubuntu',
    'Step 2/3 : MAINTAINER Victor Vieux <victor@docker.com>',
    'Step 3/3 : RUN apt-get qq update &&     apt-get install -y inotify-tools nginx apache2 openssh-server',
  ]);
  assert.deepEqual((p.steps[2] as Extract<Step, { kind: 'run' }>).argv,
    ['/bin/sh', '-c', 'apt-get qq update &&     apt-get install -y inotify-tools nginx apache2 openssh-server']);
  assert.deepEqual(last(p.steps).config.Cmd, ['bash'], 'RUN leaves the inherited CMD alone');

  const mailcatcher = [
    'FROM debian:latest', 'MAINTAINER Jérémy Derussé "jeremy@derusse.com"', '# Install requirements', 'RUN \\',
    '  apt-get update -qq && \\', '  apt-get install --no-install-recommends -y ruby sqlite3 && \\',
    '  rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*', 'EXPOSE 80', 'EXPOSE 25',
    'CMD ["--smtp-port", "25", "--http-port", "80", "--ip", "0.0.0.0", "-f"]', 'ENTRYPOINT ["mailcatcher"]',
  ].join('\n');
  p = plan(mailcatcher, {}, { 'debian:latest': { Env: ['PATH=/usr/bin:/bin'], Cmd: ['bash'] } });
  assert.equal(p.total, 7);
  const c = last(p.steps).config;
  assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '25/tcp']);
  assert.deepEqual(c.Cmd, ['--smtp-port', '25', '--http-port', '80', '--ip', '0.0.0.0', '-f']);
  assert.deepEqual(c.Entrypoint, ['mailcatcher']);
  assert.equal(last(p.steps).author, 'Jérémy Derussé "jeremy@derusse.com"');
  assert.equal(p.steps[2].display, 'Step 3/7 : RUN   apt-get update -qq &&   apt-get install --no-install-recommends -y ruby sqlite3 &&   rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*');
});

test('--label adds one literal LABEL step per label to the target stage, sorted', () => {
  const p = plan('FROM busybox AS a\nRUN x\nFROM busybox AS b\nCMD ["b"]\n', { target: 'a', labels: { 'z.v': '$HOME', 'a.k': 'v 1' } });
  assert.deepEqual(displays(p.steps), ['Step 1/4 : FROM busybox AS a', 'Step 2/4 : RUN x', 'Step 3/4 : LABEL a.k=v 1', 'Step 4/4 : LABEL z.v=$HOME']);
  assert.deepEqual(last(p.steps).config.Labels, { 'a.k': 'v 1', 'z.v': '$HOME' });
});
