import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import type { ContainerStore } from '../engine/containers/store.js';

/** The body of `GET /info`, in Docker's shape so clients render it. */
export async function daemonInfo(d: {
  id: string;
  version: string;
  dataRoot: string;
  runtime: string;
  containers: ContainerStore;
  imageCount: () => Promise<number>;
  insecureRegistries: string[];
  warnings: () => string[];
}): Promise<Record<string, unknown>> {
  const all = d.containers.all();
  const running = all.filter((c) => c.State.Running && !c.State.Paused).length;
  const paused = all.filter((c) => c.State.Paused).length;
  const cgroupV2 = await fs.stat('/sys/fs/cgroup/cgroup.controllers').then(() => true, () => false);
  return {
    ID: d.id,
    Containers: all.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: all.length - running - paused,
    Images: await d.imageCount(),
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
    DockerRootDir: d.dataRoot,
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['k8s-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    OomKillDisable: !cgroupV2,
    IPv4Forwarding: true,
    Debug: false,
    NFd: await fs.readdir('/proc/self/fd').then((f) => f.length, () => 0),
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupV2 ? '2' : '1',
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: await osName(),
    OSVersion: '',
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
      InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: null,
    },
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    HttpProxy: process.env.HTTP_PROXY ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? '',
    NoProxy: process.env.NO_PROXY ?? '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: d.version,
    Runtimes: { runc: { path: 'runc' }, crun: { path: 'crun' } },
    DefaultRuntime: d.runtime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: '', Expected: '' },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: d.warnings(),
  };
}

async function osName(): Promise<string> {
  try {
    const text = await fs.readFile('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}
