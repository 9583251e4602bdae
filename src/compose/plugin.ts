import { Command } from 'commander';
import type { ComposeEngine } from './engine.js';
import { registerComposeCommand, terminalIO } from './cli.js';
import type { ComposeIO } from './executor.js';
import { composeVersion } from './container-spec.js';

/**
 * Runs compose as a docker CLI plugin (`docker compose ...`): docker first
 * asks `docker-compose docker-cli-plugin-metadata`, then calls
 * `docker-compose compose <args>`.
 *
 *   // bin/docker-compose, installed in ~/.docker/cli-plugins/
 *   await runAsDockerPlugin(process.argv.slice(2), () => engineFromDockerHost());
 */
export async function runAsDockerPlugin(args: string[], makeEngine: () => ComposeEngine, io: ComposeIO = terminalIO()): Promise<void> {
  if (args[0] === 'docker-cli-plugin-metadata') {
    io.out(`${pluginMetadata()}\n`);
    return;
  }
  const program = new Command('docker').enablePositionalOptions();
  registerComposeCommand(program, makeEngine, io);
  // Invoked directly as `docker-compose up`, behave as `docker compose up`.
  const rest = args[0] === 'compose' ? args : ['compose', ...args];
  await program.parseAsync(rest, { from: 'user' });
}

/** What the docker CLI reads to list the plugin. */
export function pluginMetadata(): string {
  return JSON.stringify({ SchemaVersion: '0.1.0', Vendor: 'Berth', Version: `v${composeVersion}`, ShortDescription: 'Docker Compose' });
}
