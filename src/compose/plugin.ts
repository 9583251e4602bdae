import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import type { ComposeEngine } from './engine.js';
import { registerComposeCommand, terminalIO } from './cli.js';
import type { ComposeIO } from './executor.js';
import { composeVersion } from './container-spec.js';
import { InvalidArgument } from '../common/errors.js';

/**
 * Runs compose as a docker CLI plugin (`docker compose ...`). The docker CLI
 * first asks `docker-compose docker-cli-plugin-metadata`, then runs
 * `docker-compose [GLOBAL OPTIONS] compose <args>`; the global options
 * (`-H`, `--context`, `--config`) choose the daemon, as they do for docker.
 *
 *   // bin/docker-compose, linked into a cli-plugins directory
 *   await runAsDockerPlugin(process.argv.slice(2), (host) => new ApiComposeEngine(new EngineClient(host)));
 */
export async function runAsDockerPlugin(args: string[], makeEngine: (host: string) => ComposeEngine, io: ComposeIO = terminalIO(),
  env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (args[0] === 'docker-cli-plugin-metadata') {
    io.out(`${pluginMetadata()}\n`);
    return;
  }
  let inv: PluginInvocation;
  try {
    inv = parsePluginArgs(args);
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const program = new Command('docker').enablePositionalOptions();
  registerComposeCommand(program, () => makeEngine(dockerHost(inv, env)), io);
  await program.parseAsync(inv.args, { from: 'user' });
}

/** What the docker CLI reads to list the plugin. */
export function pluginMetadata(): string {
  return JSON.stringify({ SchemaVersion: '0.1.0', Vendor: 'Berth', Version: `v${composeVersion}`, ShortDescription: 'Docker Compose' });
}

export interface PluginInvocation {
  host?: string;
  context?: string;
  configDir?: string;
  /** From `compose` on: what compose parses. */
  args: string[];
}

/** docker's global options that take a value; the others (`-D`, `--tls`) are flags. */
const valued = new Set(['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey']);

/**
 * Splits `[GLOBAL OPTIONS] compose ...` as the docker CLI passes it. Invoked
 * by hand without the `compose` word (`docker-compose up`), it acts as
 * `docker compose up`.
 */
export function parsePluginArgs(argv: string[]): PluginInvocation {
  const inv: PluginInvocation = { args: [] };
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-') && argv[i] !== '--'; i++) {
    const eq = argv[i].indexOf('=');
    const name = argv[i].startsWith('--') && eq > 0 ? argv[i].slice(0, eq) : argv[i];
    if (!valued.has(name)) continue;
    const value = name !== argv[i] ? argv[i].slice(eq + 1) : argv[++i];
    if (value === undefined) throw new InvalidArgument(`flag needs an argument: ${name}`);
    if (name === '-H' || name === '--host') inv.host = value;
    if (name === '-c' || name === '--context') inv.context = value;
    if (name === '--config') inv.configDir = value;
  }
  const rest = argv.slice(i);
  inv.args = rest[0] === 'compose' ? rest : ['compose', ...rest];
  return inv;
}

/**
 * The daemon the docker CLI would talk to: `-H`, then `DOCKER_HOST`, then
 * the endpoint of the chosen context (`--context`, `DOCKER_CONTEXT`, or the
 * config's `currentContext`), then docker's default socket.
 */
export function dockerHost(inv: PluginInvocation, env: NodeJS.ProcessEnv = process.env): string {
  if (inv.host) return inv.host;
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  const configDir = inv.configDir ?? env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  let context = inv.context ?? env.DOCKER_CONTEXT;
  if (!context) {
    try {
      context = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')).currentContext;
    } catch {
      // no config: the default context
    }
  }
  if (context && context !== 'default') {
    const meta = path.join(configDir, 'contexts', 'meta', createHash('sha256').update(context).digest('hex'), 'meta.json');
    let host: string | undefined;
    try {
      host = JSON.parse(readFileSync(meta, 'utf8')).Endpoints?.docker?.Host;
    } catch {
      throw new InvalidArgument(`context "${context}" does not exist`);
    }
    if (host) return host;
  }
  return 'unix:///var/run/docker.sock';
}
