import { Command, Option } from 'commander';

export interface DaemonOptions {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  runtime: 'runc' | 'crun' | 'auto';
  logLevel: string;
  pidfile?: string;
  bip?: string;
  defaultAddressPool: string[];
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
}

/** Parses berthd's command line (docker's dockerd flag names where they exist). */
export function parseDaemonOptions(argv: string[]): DaemonOptions {
  const program = new Command('berthd')
    .description('Berth daemon: runs containers and serves the Docker Engine API')
    .option('-H, --host <address>', 'socket(s) to listen on: unix:///path or tcp://host:port (repeatable)', collect, [])
    .option('--data-root <dir>', 'root of persistent state (images, containers, volumes)', '/var/lib/berth')
    .option('--exec-root <dir>', 'root of runtime state (sockets, runc state)', '/run/berth')
    .addOption(new Option('--runtime <name>', 'OCI runtime; auto picks crun where it works (pure cgroup v2), else runc').choices(['runc', 'crun', 'auto']).default('auto'))
    .addOption(new Option('-l, --log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .option('-p, --pidfile <file>', 'write the daemon pid to this file')
    .option('--bip <cidr>', 'address and subnet of the default bridge, e.g. 172.17.0.1/16')
    .option('--default-address-pool <spec>', 'pool for new networks, e.g. base=10.10.0.0/16,size=24 (repeatable)', collect, [])
    .option('--insecure-registry <host>', 'registry reachable over plain HTTP (repeatable)', collect, [])
    .option('--max-concurrent-downloads <n>', 'maximum concurrent layer downloads for all pulls', positiveInt, 3)
    .option('--max-concurrent-uploads <n>', 'maximum concurrent layer uploads for all pushes', positiveInt, 5)
    .version(process.env.npm_package_version ?? '0.1.0', '-v, --version')
    .helpOption('-h, --help')
    .allowExcessArguments(false);
  program.parse(argv, { from: 'user' });
  const o = program.opts();
  return {
    hosts: o.host.length ? o.host : ['unix:///run/berth.sock'],
    dataRoot: o.dataRoot,
    execRoot: o.execRoot,
    runtime: o.runtime,
    logLevel: o.logLevel,
    pidfile: o.pidfile,
    bip: o.bip,
    defaultAddressPool: o.defaultAddressPool,
    insecureRegistries: o.insecureRegistry,
    maxConcurrentDownloads: o.maxConcurrentDownloads,
    maxConcurrentUploads: o.maxConcurrentUploads,
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid value ${JSON.stringify(v)}: want a whole number of at least 1`);
  return n;
}
