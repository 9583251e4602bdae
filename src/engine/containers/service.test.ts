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
    if (sig === '9' || sig === '15') this.finish(id, 128 + Number(sig));
  }
  async pause(id: string) { this.live.get(id)!.status = 'paused'; }
  async resume(id: string) { this.live.get(id)!.status = 'running'; }
  async delete(id: string) { this.live.delete(id); }
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

const rootfs: RootfsPort = {
  async resolveImage(ref) {
    if (ref !== 'busybox') throw new NotFound(`No such image: ${ref}:latest`);
    return { id: 'sha256:' + 'b'.repeat(64), config: { Cmd: ['sh'], Env: ['PATH=/bin'] } };
  },
  async createContainerLayer() {},
  async mountContainer(id) { return `/nonexistent/${id}`; },
  async unmountContainer() {},
  async removeContainerLayer() {},
  async exportContainer() { return new PassThrough(); },
};

let dir: string;
let rt: FakeRuntime;
let svc: ContainerService;
let store: ContainerStore;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-svc-'));
  rt = new FakeRuntime();
  store = new ContainerStore(dir);
  await store.load();
  svc = new ContainerService({ store, rootfs, runtime: rt as unknown as RuntimePort, buildSpec: async () => ({}), events: new EventBus() });
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
