/**
 * Container configuration as the Docker Engine API carries it
 * (`POST /containers/create` body). Field names are Docker's so that the
 * API layer can pass bodies through without translation; only the fields
 * Berth acts on are typed, the rest ride along untouched.
 */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface RestartPolicy {
  Name?: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
  MaximumRetryCount?: number;
}

export interface Ulimit { Name: string; Soft: number; Hard: number }

export interface Mount {
  Type?: 'bind' | 'volume' | 'tmpfs' | 'npipe';
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface PortBinding { HostIp?: string; HostPort?: string }

export interface HostConfig {
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: Mount[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  ShmSize?: number;
  /** Initial terminal size [height, width] (API 1.42+), so a tty is sized before the process runs. */
  ConsoleSize?: [number, number] | null;
  Init?: boolean | null;
  // Resources
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  BlkioWeight?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions?: string }[] | null;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}
