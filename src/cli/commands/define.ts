import { Command, CommanderError } from 'commander';
import { ConnectionError, DaemonError, StreamError } from '../../client/index.js';
import { CliContext, CliExit, commandPath } from '../cli-context.js';
import { TemplateError } from '../format/template-error.js';
import { UsageError } from '../options/parse-values.js';
import { formatHelp } from '../help.js';

/**
 * One CLI command, declared once and mounted wherever Docker has it
 * (`berth ps` and `berth container ls` share a spec).
 *
 *   export const stop: CommandSpec = {
 *     name: 'stop', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Stop one or more running containers',
 *     args: { min: 1 }, setup: (c) => c.option('-t, --time <int>', 'Seconds to wait before killing it'),
 *     action: async (ctx, args, opts) => { ... return 0; },
 *   };
 */
export interface CommandSpec {
  name: string;
  usage: string;
  description: string;
  /** Positional argument count rule, checked with Docker's wording. */
  args?: { min?: number; max?: number };
  setup?: (cmd: Command) => void;
  /** Options after the first positional belong to it (`run IMAGE CMD -x`). */
  passThrough?: boolean;
  /** Exit code for daemon errors: 125 for run/create as Docker, else 1. */
  daemonExit?: number;
  /** Print errors as `berth: ...` plus a help hint, as `docker run` does. */
  hintOnError?: boolean;
  action: (ctx: CliContext, args: string[], opts: any, cmd: Command) => Promise<number | void>;
}

/**
 * The exit code of the command that ran. Commands mounted with `mount()` set
 * it and `berth` exits with it at once; a command group registered another way
 * (e.g. a long-running `registry serve`) leaves it unset, and then the process
 * ends when its event loop does, with `process.exitCode`.
 */
export interface ExitState { code?: number }

/** Applies Docker-style help and error handling to any command (also management groups). */
export function styleCommand(cmd: Command): Command {
  return cmd
    .helpOption('--help', 'Print usage')
    .helpCommand(false)
    .configureHelp({ formatHelp })
    .configureOutput({ writeErr: (s) => process.stdout.write(s), outputError: () => undefined })
    .exitOverride()
    .allowExcessArguments(true);
}

/** Mounts `spec` under `parent` as `name` (default spec.name), with extra aliases. */
export function mount(parent: Command, spec: CommandSpec, ctx: CliContext, state: ExitState, name = spec.name, aliases: string[] = []): Command {
  const cmd = styleCommand(parent.command(name)).description(spec.description).usage(spec.usage);
  for (const a of aliases) cmd.alias(a);
  cmd.argument('[args...]');
  spec.setup?.(cmd);
  if (spec.passThrough) cmd.passThroughOptions();
  cmd.action(async (args: string[], opts: any) => {
    state.code = await runAction(ctx, spec, cmd, args, opts);
  });
  return cmd;
}

async function runAction(ctx: CliContext, spec: CommandSpec, cmd: Command, args: string[], opts: any): Promise<number> {
  const path = commandPath(cmd);
  const { min = 0, max = Infinity } = spec.args ?? {};
  if (args.length < min || args.length > max) {
    const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
    const what = max === 0 ? 'accepts no arguments' : min === max ? `requires exactly ${plural(min)}` : args.length < min ? `requires at least ${plural(min)}` : `requires at most ${plural(max)}`;
    ctx.err(`"${path}" ${what}.\nSee '${path} --help'.\n\nUsage:  ${path} ${spec.usage}\n\n${spec.description}\n`);
    return 1;
  }
  try {
    return (await spec.action(ctx, args, opts, cmd)) ?? 0;
  } catch (e) {
    return reportError(ctx, e, path, spec);
  }
}

/** Prints an error the way the docker CLI does and returns the exit code. */
export function reportError(ctx: CliContext, e: unknown, path: string, spec?: Pick<CommandSpec, 'daemonExit' | 'hintOnError'>): number {
  const prefix = spec?.hintOnError ? `${path.split(' ')[0]}: ` : '';
  const hint = spec?.hintOnError ? `\nSee '${path} --help'.` : '';
  if (e instanceof CliExit) {
    if (e.message) ctx.err(e.message.endsWith('\n') ? e.message : `${e.message}\n`);
    return e.code;
  }
  if (e instanceof UsageError) {
    ctx.err(`${prefix}${e.message}\nSee '${path} --help'.\n`);
    return 125;
  }
  if (e instanceof DaemonError) {
    ctx.err(`${prefix}${e.display}${hint}\n`);
    return spec?.daemonExit ?? 1;
  }
  if (e instanceof ConnectionError) {
    ctx.err(`${prefix}${e.message}${hint}\n`);
    return spec?.daemonExit ?? 1;
  }
  if (e instanceof TemplateError) {
    const parse = !/^template: :\d+:\d+: executing/.test(e.message);
    ctx.err(`${parse ? 'template parsing error: ' : ''}${e.message}\n`);
    return 1;
  }
  if (e instanceof StreamError) {
    ctx.err(`${prefix}${e.message}${hint}\n`);
    return spec?.daemonExit ?? 1;
  }
  ctx.err(`${prefix}${(e as Error)?.message ?? String(e)}${hint}\n`);
  return spec?.daemonExit ?? 1;
}

/** Turns a commander parse error into Docker's flag error text and exit code. */
export function reportCommanderError(ctx: CliContext, e: CommanderError, program: Command, argv: string[]): number {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return 0;
  const path = commandPath(findCommand(program, argv));
  let msg = e.message.replace(/^error: /, '');
  // "option '-n, --tail <string>' argument missing" names the long flag after the short one.
  const opt = /option '(?:-\w, )?([^' ,]+)/.exec(msg)?.[1];
  if (e.code === 'commander.unknownOption' && opt) {
    msg = opt.startsWith('--') ? `unknown flag: ${opt}` : `unknown shorthand flag: '${opt.slice(1, 2)}' in ${opt}`;
  } else if (e.code === 'commander.optionMissingArgument' && opt) {
    msg = `flag needs an argument: ${opt}`;
  } else if (e.code === 'commander.unknownCommand') {
    const name = /command '([^']+)'/.exec(msg)?.[1] ?? '';
    ctx.err(`${program.name()}: '${name}' is not a ${program.name()} command.\nSee '${program.name()} --help'\n`);
    return 1;
  } else if (e.code === 'commander.invalidArgument') {
    msg = msg.replace(/^option '([^']+)' argument /, 'invalid argument for "$1" flag: ');
  }
  ctx.err(`${msg}\nSee '${path} --help'.\n`);
  return 125;
}

/** The deepest command named by argv (for error hints). */
function findCommand(program: Command, argv: string[]): Command {
  let cur = program;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-H' || a === '--host' || a === '-l' || a === '--log-level') { i++; continue; }
    if (a.startsWith('-')) continue;
    const next = cur.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!next) break;
    cur = next;
  }
  return cur;
}
