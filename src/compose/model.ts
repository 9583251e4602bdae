/**
 * The one normalised model every compose format (fig's version 1, 2.x, 3.x,
 * the specification without `version`) is turned into. Field names and
 * shapes follow the compose specification's long syntax, so `config` can
 * print it as it stands and the planner never sees a short form.
 */
export interface Project {
  name: string;
  /** Directory relative paths resolve against (the first file's). */
  workingDir: string;
  /** Absolute paths of the files merged, in order (`-` for stdin). */
  configFiles: string[];
  /**
   * Fig / version 1 file, or `--compatibility`: docker-compose 1.x names
   * (`project_web_1`) and output. A fig file's services also have no
   * networks, so they run on the default bridge with legacy links.
   */
  legacy: boolean;
  services: Record<string, Service>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  /** Services left out because none of their profiles is active. */
  disabled: Record<string, Service>;
}

export interface Service {
  name: string;
  image?: string;
  build?: BuildConfig;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment: Record<string, string | null>;
  ports: PortConfig[];
  expose: string[];
  volumes: ServiceVolume[];
  volumes_from: string[];
  links: string[];
  external_links: string[];
  depends_on: Record<string, DependsOn>;
  /** Absent for services with a `network_mode` (or in legacy files). */
  networks: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  restart?: string;
  healthcheck?: Healthcheck;
  labels: Record<string, string>;
  container_name?: string;
  hostname?: string;
  domainname?: string;
  working_dir?: string;
  user?: string;
  tty?: boolean;
  stdin_open?: boolean;
  privileged?: boolean;
  read_only?: boolean;
  cap_add: string[];
  cap_drop: string[];
  dns: string[];
  dns_search: string[];
  extra_hosts: string[];
  tmpfs: string[];
  ulimits: Record<string, { soft: number; hard: number }>;
  /** Bytes. */
  mem_limit?: number;
  mem_reservation?: number;
  cpus?: number;
  cpu_shares?: number;
  pids_limit?: number;
  shm_size?: number;
  deploy?: Deploy;
  scale?: number;
  init?: boolean;
  stop_signal?: string;
  /** Nanoseconds. */
  stop_grace_period?: number;
  profiles: string[];
  pull_policy?: string;
  logging?: { driver?: string; options?: Record<string, string> };
  security_opt: string[];
  sysctls: Record<string, string>;
  devices: string[];
  ipc?: string;
  pid?: string;
  uts?: string;
  cpuset?: string;
  cpu_period?: number;
  cpu_quota?: number;
  /** Bytes; -1 for unlimited swap. */
  memswap_limit?: number;
  oom_score_adj?: number;
  oom_kill_disable?: boolean;
  group_add: string[];
  dns_opt: string[];
  runtime?: string;
  cgroup_parent?: string;
  userns_mode?: string;
  mac_address?: string;
}

export interface BuildConfig {
  context: string;
  dockerfile?: string;
  args: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  network?: string;
  cache_from: string[];
}

export interface PortConfig {
  mode: 'ingress' | 'host';
  target: number;
  /** Host port or range (`8000-8010`); absent to let the engine pick. */
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ServiceVolume {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Absolute host path (bind), volume name as written (volume), absent for anonymous and tmpfs. */
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean; propagation?: string };
  volume?: { nocopy?: boolean };
  tmpfs?: { size?: number };
}

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface DependsOn {
  condition: DependsCondition;
  required: boolean;
  restart?: boolean;
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
}

export interface Healthcheck {
  test?: string[];
  /** Nanoseconds. */
  interval?: number;
  timeout?: number;
  start_period?: number;
  retries?: number;
  disable?: boolean;
}

export interface Deploy {
  replicas?: number;
  resources?: { limits?: { cpus?: number; memory?: number; pids?: number }; reservations?: { cpus?: number; memory?: number } };
  restart_policy?: { condition?: string; max_attempts?: number };
}

export interface NetworkConfig {
  /** The engine-side name, `<project>_<key>` unless set or external. */
  name: string;
  driver?: string;
  driver_opts: Record<string, string>;
  ipam?: { driver?: string; config: { subnet?: string; gateway?: string; ip_range?: string }[] };
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  external?: boolean;
  labels: Record<string, string>;
}

export interface VolumeConfig {
  name: string;
  driver?: string;
  driver_opts: Record<string, string>;
  external?: boolean;
  labels: Record<string, string>;
}

/** How many containers a service runs: `--scale`, then `scale`, then `deploy.replicas`, else 1. */
export function serviceScale(s: Service): number {
  return s.scale ?? s.deploy?.replicas ?? 1;
}
