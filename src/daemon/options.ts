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
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
