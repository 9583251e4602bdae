import type { ContainerConfig, HostConfig } from './types.js';
import type { MountPoint } from '../volumes/mounts.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** The runtime state Docker reports under `State` in `inspect`. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
}

/**
 * What the daemon persists per container (`<data-root>/containers/<id>/record.json`).
 * Field names follow Docker's inspect output so `inspect` is mostly a copy.
 */
export interface ContainerRecord {
  Id: string;
  /** With Docker's leading slash: "/webapp". */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** Image ID ("sha256:…"). `Config.Image` keeps the reference the user typed. */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** Set by stop/kill so restart policies leave the container down. */
  ManuallyStopped: boolean;
  HasBeenStartedBefore: boolean;
  LogPath: string;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  /** Pid of the container's conmon while it runs (it outlives the daemon). */
  MonitorPid?: number;
  /** `NetworkingConfig` of the create request (endpoints: aliases, addresses). */
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null; MacAddress?: string }> | null };
  /**
   * Set by `network disconnect` of a stopped container from its NetworkMode
   * network: it starts without it (Docker keeps NetworkMode and drops the
   * endpoint); a later `network connect` to that network clears it.
   */
  PrimaryNetworkDisconnected?: boolean;
  /** Network state owned by the network service, shown under NetworkSettings. */
  NetworkSettings?: Record<string, unknown>;
  /** Mounts as inspect shows them, resolved at create by the volume service. */
  Mounts?: MountPoint[];
}

export const zeroTime = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: zeroTime, FinishedAt: zeroTime,
  };
}
