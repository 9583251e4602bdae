import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { EventBus } from '../events/bus.js';
import { ContainerService } from './service.js';
import { ContainerStore } from './store.js';
import type { ExitStatus, RootfsPort, RuntimePort } from './ports.js';
import { NotFound } from '../../common/errors.js';

/** A runtime whose containers exit when the test says so. */
class FakeRuntime implements Partial<RuntimePort> {
  live = new Map<string, { status: 'created' | 'running' | 'paused'; exit: (s: ExitStatus) => void; exited: Promise<ExitStatus> }>();
  recorded = new Map<string, ExitStatus>();
  signals: string[] = [];
  starts = 0;
  failCreateWith?: string;
  /** Signals the fake process ignores (as a shell as PID 1 ignores SIGTERM). */
  ignored = new Set<string>();
  /** Held open by a test to make the release of a run slow. */
  deleteGate?: Promise<void>;
  order: string[] = [];
  async create(req: { id: string; spec: unknown }) {
    if (this.failCreateWith) throw new Error(this.failCreateWith);
    await req.spec; // as the real runtime: a spec that could not be prepared fails the create
    let exit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => { exit = r; });
    this.live.set(req.id, { status: 'created', exit, exited });
    return { monitorPid: 4242 };
  }
  async start(id: string) { this.live.get(id)!.status = 'running'; this.starts++; return { pid: 1000 + this.starts }; }
  async kill(id: string, sig: string) {
    this.signals.push(sig);
    if (this.ignored.has(sig)) return;
    if (sig === '9' || sig === '15') this.finish(id, 128 + Number(sig));
  }
  async pause(id: string) { this.live.get(id)!.status = 'paused'; }
  async resume(id: string) { this.live.get(id)!.status = 'running'; }
  async delete(id: string) {
    if (this.deleteGate) await this.deleteGate;
    this.live.delete(id);
    this.order.push('runtime delete');
  }
  async state(id: string) { const c = this.live.get(id); return c ? { status: c.status, pid: 77 } : undefined; }
  async exitStatus(id: string) { return this.recorded.get(id); }
  waitExit(id: string) { return this.live.get(id)!.exited; }
  async attach() { return { stdout: new PassThrough(), close() {} }; }
  finish(id: string, code: number) {
    const st = { exitCode: code, oomKilled: false, finishedAt: new Date() };
    this.recorded.set(id, st);
    this.live.get(id)?.exit(st);
  }
}

/** What the fake rootfs was asked to do, in order (reset per test). */
let rootfsCalls: string[] = [];
const rootfs: RootfsPort = {
  async resolveImage(ref) {
    if (ref !== 'busybox') throw new NotFound(`No such image: ${ref}:latest`);
    return { id: 'sha256:' + 'b'.repeat(64), config: { Cmd: ['sh'], Env: ['PATH=/bin'] } };
  },
  async createContainerLayer() {},
  async mountContainer(id) { rootfsCalls.push('mount'); return `/nonexistent/${id}`; },
  async unmountContainer() { rootfsCalls.push('unmount'); },
  async removeContainerLayer() { rootfsCalls.push('remove layer'); },
  async exportContainer() { return new PassThrough(); },
};

let dir: string;
let rt: FakeRuntime;
let svc: ContainerService;
let store: ContainerStore;
let events: { Action: string; id: string; attrs: Record<string, string> }[];

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-svc-'));
  rt = new FakeRuntime();
  store = new ContainerStore(dir);
  await store.load();
  rootfsCalls = [];
  events = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push({ Action: e.Action, id: e.Actor.ID, attrs: e.Actor.Attributes }));
  svc = new ContainerService({ store, rootfs, runtime: rt as unknown as RuntimePort, buildSpec: async () => ({}), events: bus });
});
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

test('create merges the image command; unknown image and taken name are refused', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {}, 'web');
  const rec = store.get('web');
  assert.equal(rec.Id, Id);
  assert.equal(rec.Path, 'sh');
  assert.equal(rec.Config.Hostname, Id.slice(0, 12));
  await assert.rejects(svc.create({ Image: 'nope' }, {}), /No such image: nope:latest/);
  await assert.rejects(svc.create({ Image: 'busybox' }, {}, 'web'), /The container name "\/web" is already in use/);
  await assert.rejects(svc.create({ Image: 'busybox' }, {}, 'bad name!'), /Invalid container name/);
});

test('wait next-exit registered before start sees the exit code', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {});
  const waited = svc.wait(Id, 'next-exit');
  await svc.start(Id);
  assert.equal(store.get(Id).State.Status, 'running');
  rt.finish(Id, 3);
  assert.equal(await waited, 3);
  await tick();
  const st = store.get(Id).State;
  assert.equal(st.Status, 'exited');
  assert.equal(st.ExitCode, 3);
  assert.equal(await svc.wait(Id), 3);
});

test('on-failure:2 restarts twice and then leaves the container exited', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
  await svc.start(Id);
  for (let i = 0; i < 3; i++) {
    rt.finish(Id, 1);
    await tick(700);
  }
  const rec = store.get(Id);
  assert.equal(rec.RestartCount, 2);
  assert.equal(rec.State.Status, 'exited');
  assert.equal(rt.starts, 3);
});

test('a stopped always-container is not restarted', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, { RestartPolicy: { Name: 'always' } });
  await svc.start(Id);
  await svc.stop(Id, 1);
  await tick(300);
  assert.equal(store.get(Id).State.Status, 'exited');
  assert.equal(rt.starts, 1);
  assert.deepEqual(rt.signals, ['15']);
});

test('AutoRemove removes the container after it exits; wait removed resolves', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, { AutoRemove: true });
  const removed = svc.wait(Id, 'removed');
  await svc.start(Id);
  rt.finish(Id, 0);
  assert.equal(await removed, 0);
  assert.equal(store.find(Id), undefined);
});

test('removing a running container needs force', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {}, 'busy');
  await svc.start(Id);
  await assert.rejects(svc.remove(Id), /container is running: stop the container before removing or force remove/);
  await svc.remove(Id, { force: true });
  assert.equal(store.find(Id), undefined);
});

test('a start that fails records exit code 127 for a missing command', async () => {
  const { Id } = await svc.create({ Image: 'busybox', Cmd: ['nope'] }, {});
  rt.failCreateWith = 'exec: "nope": executable file not found in $PATH';
  await assert.rejects(svc.start(Id), /executable file not found/);
  const st = store.get(Id).State;
  assert.equal(st.ExitCode, 127);
  assert.equal(st.Status, 'created');
});

test('reconcile records the exit of a container that died while no daemon ran', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {});
  await svc.start(Id);
  // The "daemon" goes away; the container exits meanwhile.
  rt.recorded.set(Id, { exitCode: 42, oomKilled: false, finishedAt: new Date() });
  rt.live.delete(Id);
  const store2 = new ContainerStore(dir);
  await store2.load();
  const svc2 = new ContainerService({ store: store2, rootfs, runtime: rt as unknown as RuntimePort, buildSpec: async () => ({}), events: new EventBus() });
  await svc2.reconcile();
  assert.equal(store2.get(Id).State.Status, 'exited');
  assert.equal(store2.get(Id).State.ExitCode, 42);
});

test('stop of a process that ignores SIGTERM: SIGKILL once the timeout has passed, not before; exit 137 and die recorded', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {}, 'stubborn');
  await svc.start(Id);
  rt.ignored.add('15');
  const t0 = Date.now();
  await svc.stop(Id, 1);
  const took = Date.now() - t0;
  assert.ok(took >= 990 && took < 1800, `stop took ${took} ms with a 1 s timeout`);
  assert.deepEqual(rt.signals, ['15', '9']);
  const st = store.get(Id).State;
  assert.equal(st.Status, 'exited');
  assert.equal(st.ExitCode, 137);
  assert.deepEqual(events.filter((e) => e.id === Id).map((e) => e.Action), ['create', 'start', 'die']);
  assert.equal(events.find((e) => e.Action === 'die')?.attrs.exitCode, '137');
  await assert.rejects(svc.stop(Id), (err: Error) => err.message === 'container already stopped');
});

test("stop uses the image's StopSignal; a paused container is resumed so the signal lands", async () => {
  const { Id } = await svc.create({ Image: 'busybox', StopSignal: 'SIGTERM' }, {});
  await svc.start(Id);
  await svc.pause(Id);
  assert.equal(store.get(Id).State.Status, 'paused');
  await svc.stop(Id, 5);
  assert.deepEqual(rt.signals, ['15']);
  assert.equal(store.get(Id).State.ExitCode, 143);
  assert.equal(store.get(Id).State.Paused, false);
});

test("kill and pause refuse with Docker's messages and change nothing", async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {});
  await assert.rejects(svc.kill(Id), (err: Error) => err.message === `Cannot kill container: ${Id.slice(0, 12)}: Container ${Id} is not running`);
  await assert.rejects(svc.pause(Id), (err: Error) => err.message === `Container ${Id} is not running`);
  await assert.rejects(svc.unpause(Id), (err: Error) => err.message === `Container ${Id} is not paused`);
  await svc.start(Id);
  await assert.rejects(svc.kill(Id, 'SIGNOPE'), (err: Error) => err.message === 'Invalid signal: SIGNOPE');
  assert.deepEqual(rt.signals, []);
  await svc.pause(Id);
  await assert.rejects(svc.pause(Id), (err: Error) => err.message === `Container ${Id} is already paused`);
  await assert.rejects(svc.start(Id), (err: Error) => err.message === 'cannot start a paused container, try unpause instead');
  await svc.unpause(Id);
  assert.equal(store.get(Id).State.Status, 'running');
  const exited = svc.wait(Id, 'next-exit');
  await svc.kill(Id, 'TERM');
  assert.equal(await exited, 143);
  assert.equal(events.find((e) => e.Action === 'kill')?.attrs.signal, '15');
  assert.deepEqual(events.filter((e) => e.id === Id).map((e) => e.Action), ['create', 'start', 'pause', 'unpause', 'kill', 'die']);
});

test('restart stops, starts again and reports die, start, restart', async () => {
  const { Id } = await svc.create({ Image: 'busybox' }, {});
  await svc.start(Id);
  events.length = 0;
  await svc.restart(Id, 2);
  assert.equal(store.get(Id).State.Status, 'running');
  assert.equal(rt.starts, 2);
  assert.deepEqual(events.map((e) => e.Action), ['die', 'start', 'restart']);
});

/** A container whose run exited and whose release (runtime delete) is held until `openGate` is called. */
async function exitedWithReleaseHeld(): Promise<{ Id: string; openGate: () => void }> {
  const { Id } = await svc.create({ Image: 'busybox' }, {});
  await svc.start(Id);
  let openGate!: () => void;
  rt.deleteGate = new Promise<void>((r) => { openGate = r; });
  rt.finish(Id, 0);
  await svc.wait(Id, 'not-running');
  return { Id, openGate };
}

test("rm of an exited container: its layer goes only after the run's release finished, and after rm answered", async () => {
  const { Id, openGate } = await exitedWithReleaseHeld();
  await svc.remove(Id);
  assert.equal(store.find(Id), undefined, 'gone for clients on return');
  await tick();
  assert.ok(!rootfsCalls.includes('remove layer'), `layer removed while the release still ran: ${rootfsCalls}`);
  openGate();
  await svc.drain();
  assert.deepEqual(rt.order, ['runtime delete'], 'the release is not repeated by the removal');
  assert.deepEqual(rootfsCalls.slice(-2), ['unmount', 'remove layer']);
});

test("a start right after an exit waits for the last run's release before it mounts again", async () => {
  const { Id, openGate } = await exitedWithReleaseHeld();
  rootfsCalls = [];
  const started = svc.start(Id);
  await tick();
  assert.deepEqual(rootfsCalls, [], 'mounted before the last run was released');
  openGate();
  await started;
  assert.deepEqual(rootfsCalls, ['unmount', 'mount']);
  assert.equal(store.get(Id).State.Status, 'running');
});
