/**
 * The container runtime service: OCI spec building, conmon + runc/crun
 * lifecycle, attach, exec, logs and cgroup stats. See runtime.ts for the
 * service and spec.ts for the spec builder.
 */
export { ContainerRuntime, defaultRuntime, normalizeSignal, type ContainerState, type CreateOptions, type RuntimeConfig } from './runtime.js';
export { buildSpec, commandLine, containerEnv, type BuiltSpec, type ImageRunConfig, type NetworkNamespace, type SpecInput } from './spec.js';
export type { AttachStreams } from './attach.js';
export type { ExecExit, ExecOptions, ExecSession } from './exec.js';
export type { ExitStatus } from './exit-watch.js';
export { readLogs, dockerTime, timeSeconds, type LogEntry, type LogReadOptions } from './logs.js';
export { cgroupMounts, readCgroupStats, type CgroupStats } from './cgroups.js';
export { CommandNotExecutable, CommandNotFound, StartFailed } from './errors.js';
export { resolveUser, type ResolvedUser } from './user.js';
export { resolveInRoot, readFileInRoot } from './rootfs-path.js';
export type { Spec, Mount as OciMount } from './oci-spec.js';
