import { Command, CommanderError } from 'commander';
import { CliContext } from './cli-context.js';
import { preScan, registerAll } from './commands/index.js';
import { EngineClient } from '../client/index.js';
import { reportCommanderError, styleCommand, type ExitState } from './commands/define.js';
import { CLIENT_VERSION } from './client-version.js';

/**
 * `berth`: a client of the Docker Engine API with the docker CLI's commands,
 * flags, output and exit codes. Parses argv, runs one command and exits with
 * its code.
 */
export async function main(argv: string[]): Promise<number | undefined> {
  const program = styleCommand(new Command('berth'))
    .description('A self-sufficient runtime for containers')
    .usage('[OPTIONS] COMMAND')
    .enablePositionalOptions()
    .option('-H, --host <list>', 'Daemon socket to connect to')
    .option('-l, --log-level <string>', 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")', 'info')
    .option('-D, --debug', 'Enable debug mode')
    .version(`Berth version ${CLIENT_VERSION}`, '-v, --version', 'Print version information and quit');
  const ctx = new CliContext(program);
  const early = preScan(argv);
  if (early.daemonCommand) ctx.negotiateEarly(EngineClient.hostFromEnv(early.host, ctx.env));
  const state: ExitState = {};
  await registerAll(program, ctx, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return reportCommanderError(ctx, e, program, argv);
    }
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  } finally {
    if (state.code !== undefined) ctx.close();
  }
  return state.code;
}

// A closed pipe on stdout (`berth export x | head`) ends us quietly, as SIGPIPE ends docker.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
// No top-level await: the bundle (scripts/bundle-cli.mjs) is CommonJS, which loads faster.
void main(process.argv.slice(2)).then((code) => {
  if (code !== undefined) process.exit(code);
});
