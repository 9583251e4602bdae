/**
 * Standalone entry for the registry (`node dist/src/registry/main.js serve …`),
 * used by tests and benchmarks to run it as its own process; `berth registry`
 * is the same commands under the berth CLI.
 */
import { Command } from 'commander';
import { registerRegistryCommand } from './cli.js';

const program = new Command('berth-registry');
registerRegistryCommand(program);
program.parseAsync(['node', 'berth-registry', 'registry', ...process.argv.slice(2)]).catch((err: Error) => {
  process.stderr.write(`berth registry: ${err.message}\n`);
  process.exit(1);
});
