import type { Readable, Writable } from 'node:stream';
import type { ContainerConfig } from './types.js';

/**
 * What the container service needs from its neighbours. The container service
 * owns the lifecycle; these ports own the mechanics. Keeping them as small
 * interfaces lets the lifecycle be tested with fakes and keeps the service
 * ignorant of conmon, runc and overlayfs.
 */

/** An image as the container service sees it. */
export interface ImageInfo {
  id: string;
  config: ContainerConfig;
}

/** Image lookup plus the container's writable root filesystem. */
export interface RootfsPort {
  /** Resolves a reference (name, name:tag, ID, digest); throws NotFound `No such image: x`. */
  resolveImage(ref: string): Promise<ImageInfo>;
  /** Creates the container's writable layer on top of the image. */
  createContainerLayer(containerId: string, imageId: string): Promise<void>;
  /** Mounts the merged root filesystem and returns its path (idempotent). */
  mountContainer(containerId: string): Promise<string>;
  unmountContainer(containerId: string): Promise<void>;
  removeContainerLayer(containerId: string): Promise<void>;
  /** A tar of the container's merged filesystem (for `export`). */
  exportContainer(containerId: string): Promise<Readable>;
}

/** How a container's process ended, as recorded by its monitor. */
export interface ExitStatus {
  exitCode: number;
  oomKilled: boolean;
  finishedAt: Date;
}

/** A live attachment to a container's stdio. */
export interface AttachSession {
  stdout: Readable;
  /** Absent for tty containers, whose stderr is merged into stdout. */
  stderr?: Readable;
  /** Present when the container keeps stdin open. end() closes the container's stdin. */
  stdin?: Writable;
  close(): void;
}

/** One message of a container's output; `time` is RFC 3339 with nanoseconds and an offset, as conmon wrote it. */
export interface LogEntry { stream: 'stdout' | 'stderr'; time: string; line: Buffer }

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  tail?: number;
  since?: Date;
  until?: Date;
  /** When set, keep reading new lines until this promise settles (container exit). */
  follow?: Promise<unknown>;
  signal?: AbortSignal;
}

/** Everything the OCI runtime side does for one container. */
export interface RuntimePort {
  /**
   * Creates the container (process exists, not yet running the user's command)
   * under its monitor. `spec` is a complete OCI runtime spec, or a promise of
   * one: the monitor starts while the caller still builds it (rootfs,
   * network); if it rejects, create rejects with its error, leaving nothing.
   */
  create(req: { id: string; spec: object | Promise<object>; tty: boolean; openStdin: boolean; stdinOnce?: boolean; logPath: string }): Promise<{ monitorPid: number }>;
  start(id: string): Promise<{ pid: number }>;
  kill(id: string, signal: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Removes runtime state after exit (idempotent). */
  delete(id: string): Promise<void>;
  /** Live state, or undefined when the runtime has no such container. */
  state(id: string): Promise<{ status: 'created' | 'running' | 'paused' | 'stopped'; pid: number } | undefined>;
  /** The recorded exit, once the process has ended. */
  exitStatus(id: string): Promise<ExitStatus | undefined>;
  /** Resolves when the process ends (also for containers created before a daemon restart). */
  waitExit(id: string): Promise<ExitStatus>;
  attach(id: string, opts: { stdin: boolean }): Promise<AttachSession>;
  resize(id: string, height: number, width: number): Promise<void>;
  /** Log messages in batches (a 200,000-line log must not cost a promise per line). */
  readLogs(logPath: string, q: LogQuery): AsyncIterable<LogEntry[]>;
  /** Runs an extra process in a running container (`exec`). */
  exec(id: string, proc: ExecRequest): Promise<ExecProcess>;
}

export interface ExecRequest {
  args: string[];
  env: string[];
  cwd: string;
  /** As the user typed it (`name`, `uid:gid`); resolved inside the container's rootfs. */
  user: string;
  tty: boolean;
  stdin: boolean;
  privileged: boolean;
  /** The container's merged config, for defaults such as capabilities. */
  container: { config: ContainerConfig; hostConfig: import('./types.js').HostConfig; rootfs: string };
}

/** A running exec'd process. */
export interface ExecProcess {
  pid: number;
  stdout: Readable;
  /** Absent with a tty (merged into stdout). */
  stderr?: Readable;
  stdin?: Writable;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  resize(height: number, width: number): Promise<void>;
}

/** A mount the container service adds to the spec (generated files, binds, volumes). */
export interface SpecMount { destination: string; source: string; type: string; options: string[] }

/** Everything needed to turn a container into an OCI runtime spec. */
export interface SpecInput {
  id: string;
  /** The container's config after merging the image config (Env, Cmd, User…). */
  config: ContainerConfig;
  hostConfig: import('./types.js').HostConfig;
  rootfs: string;
  mounts: SpecMount[];
  /** `new`: a private netns with only `lo`; `host`: the host's; `path`: join an existing one. */
  network: { mode: 'new' } | { mode: 'host' } | { mode: 'path'; path: string };
}

export type SpecBuilder = (input: SpecInput) => Promise<object>;

/** Container networking: namespace, addresses, ports, links, generated files. */
export interface NetworkPort {
  /** Refuses a create whose NetworkMode names no network (`network x not found`). */
  checkMode(mode: string): void;
  /**
   * Sets up networking for a starting container. `netnsPath` undefined means
   * the host's namespace; `env` holds legacy link variables. `ready`, when
   * present, resolves once the interfaces are up: the runtime may create the
   * container before, but its process must not start until then.
   */
  setup(rec: import('./record.js').ContainerRecord): Promise<{ netnsPath?: string; files: { hosts: string; resolvConf: string; hostname: string }; env: string[]; ready?: Promise<void> }>;
  /** Undoes everything `setup` did (idempotent). */
  release(id: string): Promise<void>;
  /** Docker's NetworkSettings for inspect, and the Ports array of the list view. */
  settings(rec: import('./record.js').ContainerRecord): Record<string, unknown>;
  ports(id: string): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}
