import type { ContainerConfig, HostConfig } from '../engine/containers/types.js';

/**
 * What compose needs from a container engine: a slice of the Docker Engine
 * API, in its own JSON shapes, so the real implementation is a thin wrapper
 * over the API client and tests use an in-memory fake.
 *
 *   const engine: ComposeEngine = makeEngine();
 *   const mine = await engine.listContainers({ label: ['com.docker.compose.project=app'] }, true);
 *   const { Id } = await engine.createContainer('app-web-1', body);
 *   await engine.startContainer(Id);
 */
export interface ComposeEngine {
  /** `GET /containers/json?all=…&filters=…`. */
  listContainers(filters: Filters, all: boolean): Promise<ContainerSummary[]>;
  /** `GET /containers/{id}/json`. */
  inspectContainer(id: string): Promise<ContainerInspect>;
  createContainer(name: string, body: CreateContainerBody): Promise<{ Id: string; Warnings?: string[] }>;
  startContainer(id: string): Promise<void>;
  /** `t` seconds before SIGKILL; undefined for the container's own timeout. */
  stopContainer(id: string, t?: number): Promise<void>;
  restartContainer(id: string, t?: number): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  removeContainer(id: string, opts: { v?: boolean; force?: boolean }): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  /** `POST /containers/{id}/wait`: resolves with the exit code. */
  waitContainer(id: string): Promise<number>;
  /** Log lines as they come; ends when the container stops unless `follow` keeps it open. */
  logs(id: string, opts: { follow?: boolean; tail?: string; timestamps?: boolean }): AsyncIterable<LogLine>;
  /** `GET /containers/{id}/top`. */
  top(id: string): Promise<{ Titles: string[]; Processes: string[][] }>;

  listNetworks(filters: Filters): Promise<NetworkSummary[]>;
  createNetwork(body: CreateNetworkBody): Promise<{ Id: string }>;
  removeNetwork(id: string): Promise<void>;
  connectNetwork(network: string, container: string, endpoint: EndpointSettings): Promise<void>;

  listVolumes(filters: Filters): Promise<VolumeSummary[]>;
  createVolume(body: CreateVolumeBody): Promise<VolumeSummary>;
  removeVolume(name: string): Promise<void>;

  /** `GET /images/{ref}/json`, or undefined when absent. */
  inspectImage(ref: string): Promise<{ Id: string; RepoTags?: string[]; Size?: number; Created?: string } | undefined>;
  pullImage(ref: string, onProgress?: (line: string) => void): Promise<void>;
  pushImage(ref: string, onProgress?: (line: string) => void): Promise<void>;
  removeImage(ref: string): Promise<void>;
  /** Builds `service.build` and tags it `tag`. */
  buildImage(opts: BuildRequest, onProgress?: (line: string) => void): Promise<void>;

  /** Runs a command in a running container, piping the caller's stdio; resolves with its exit code. */
  exec(id: string, opts: ExecRequest): Promise<number>;
  /** Attaches the caller's stdio to a created container, starts it and resolves with its exit code. */
  runAttached(id: string, opts: { tty: boolean; interactive: boolean }): Promise<number>;
}

export type Filters = Record<string, string[]>;

export interface LogLine { stream: 'stdout' | 'stderr'; text: string; timestamp?: string }

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command: string;
  Created: number;
  State: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | string;
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string>;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode: number; Health?: { Status: string } };
  Config: ContainerConfig;
  Mounts?: { Type: string; Name?: string; Source: string; Destination: string }[];
}

export interface EndpointSettings { Aliases?: string[]; Links?: string[]; IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } }

export interface CreateContainerBody extends ContainerConfig {
  HostConfig: HostConfig;
  NetworkingConfig?: { EndpointsConfig: Record<string, EndpointSettings> };
}

export interface NetworkSummary { Id: string; Name: string; Labels?: Record<string, string> }

export interface CreateNetworkBody {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] };
  Options?: Record<string, string>;
  Labels: Record<string, string>;
  CheckDuplicate?: boolean;
}

export interface VolumeSummary { Name: string; Driver?: string; Labels?: Record<string, string> | null }

export interface CreateVolumeBody { Name: string; Driver?: string; DriverOpts?: Record<string, string>; Labels: Record<string, string> }

export interface BuildRequest {
  context: string;
  dockerfile?: string;
  tag: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
}

export interface ExecRequest {
  cmd: string[];
  tty: boolean;
  interactive: boolean;
  env?: string[];
  workingDir?: string;
  user?: string;
  privileged?: boolean;
  detach?: boolean;
}
