import { Command } from 'commander';
import { commandPath, type CliContext } from '../cli-context.js';
import { mount, styleCommand, type CommandSpec, type ExitState } from './define.js';
import { create, run, start } from './run.js';
import { attach, exportCmd, kill, pause, port, prune, rename, restart, rm, stop, top, unpause, wait } from './lifecycle.js';
import { ps } from './ps.js';
import { logs } from './logs.js';
import { exec } from './exec.js';
import { containerInspect, imageInspect, inspect } from './inspect.js';
import { history, imagePrune, images, importCmd, load, rmi, save, tag } from './images.js';
import { events, info, version } from './system.js';
import { commit, pull } from './pull-commit.js';
import { login, logout, push } from './push-login.js';
import { build } from './build.js';
import { systemPrune } from './system-prune.js';
import { cp } from './cp.js';
import { diff } from './diff.js';
import { systemDf } from './system-df.js';
import { stats } from './stats.js';
import { update } from './update.js';
import { NETWORK_COMMANDS, VOLUME_COMMANDS } from './volume-network.js';


/**
 * Every `berth` command, registered once here. A command group written
 * elsewhere (registry, compose) adds one line to `registerCommandGroups`:
 * a function that mounts its commands on the program.
 *
 *   registerCompose(program, ctx, state);   // in src/cli/commands/compose.ts
 */
export type CommandGroup = (program: Command, ctx: CliContext, state: ExitState) => void | Promise<void>;

const CONTAINER_COMMANDS: [CommandSpec, string?, string[]?][] = [
  [attach], [commit], [cp], [create], [diff], [exec], [exportCmd], [containerInspect], [kill], [logs], [ps, 'ls', ['list', 'ps']], [pause], [port],
  [prune], [rename], [restart], [rm, 'rm', ['remove']], [run], [start], [stats], [stop], [top], [unpause], [update], [wait],
];

const IMAGE_COMMANDS: [CommandSpec, string?, string[]?][] = [
  [build], [history], [importCmd], [pull], [push], [imageInspect], [load], [images, 'ls', ['list']], [imagePrune], [rmi, 'rm', ['remove']],
  [save], [tag],
];

const TOP_LEVEL: CommandSpec[] = [
  attach, build, commit, cp, create, diff, events, exec, exportCmd, history, images, importCmd, info, inspect, kill, load, login, logout, logs, pause, port, ps,
  pull, push, rename, restart, rm, rmi, run, save, start, stats, stop, tag, top, unpause, update, version, wait,
];

function registerContainerAndImageCommands(program: Command, ctx: CliContext, state: ExitState): void {
  // Every place a spec is mounted, so each one's help can list the others as Docker's does.
  const mounts = new Map<CommandSpec, Command[]>();
  const track = (spec: CommandSpec, cmd: Command) => mounts.set(spec, [...(mounts.get(spec) ?? []), cmd]);
  const group = (name: string, description: string, specs: [CommandSpec, string?, string[]?][]) => {
    const g = styleCommand(program.command(name)).description(description).usage('COMMAND').enablePositionalOptions();
    for (const [spec, as, aliases] of specs) track(spec, mount(g, spec, ctx, state, as ?? spec.name, aliases));
  };
  group('container', 'Manage containers', CONTAINER_COMMANDS);
  group('image', 'Manage images', IMAGE_COMMANDS);
  group('system', 'Manage Berth', [[systemDf], [events], [info], [systemPrune]]);
  group('volume', 'Manage volumes', VOLUME_COMMANDS.map((v) => [v, v.name, v.name === 'ls' ? ['list'] : v.name === 'rm' ? ['remove'] : undefined]));
  group('network', 'Manage networks', NETWORK_COMMANDS.map((n) => [n, n.name, n.name === 'ls' ? ['list'] : n.name === 'rm' ? ['remove'] : undefined]));
  for (const spec of TOP_LEVEL) track(spec, mount(program, spec, ctx, state));
  for (const cmds of mounts.values()) {
    const names = cmds.flatMap((c) => [c.name(), ...c.aliases()].map((n) => `${commandPath(c.parent!)} ${n}`));
    if (names.length > 1) for (const c of cmds) (c as any).berthAliases = names;
  }
}

/**
 * Add one line per command group; order only affects help listing. Groups that
 * run their own actions (not `mount()`ed specs) leave the exit code to
 * `process.exitCode`, so a long-running server command is not cut short:
 *
 *   (program) => registerRegistryCommand(program),
 *   (program, ctx) => registerComposeCommand(program, () => composeEngine(ctx.client())),
 */
const registerCommandGroups: CommandGroup[] = [
  registerContainerAndImageCommands,
  // registry and compose are large: load them only when they run, so
  // every other command starts ~150 ms sooner; help still lists them.
  lazyGroup('registry', 'Run an OCI distribution registry', async (program) => {
    const { registerRegistryCommand } = await import('../../registry/cli.js');
    registerRegistryCommand(program);
  }),
  lazyGroup('compose', 'Define and run multi-container applications', async (program, ctx) => {
    const [{ registerComposeCommand }, { ApiComposeEngine }, { contextTar }] = await Promise.all([
      import('../../compose/cli.js'), import('../../compose/api-engine.js'), import('../build-context.js')]);
    registerComposeCommand(program, () => new ApiComposeEngine(ctx.client(), (dir, o) => contextTar(dir, o)));
  }),
];

/** Registers `name` for real only when the command line invokes it; otherwise a help-only stub. */
function lazyGroup(name: string, description: string, load: CommandGroup): CommandGroup {
  return async (program, ctx, state) => {
    const argv = process.argv.slice(2);
    let first: string | undefined;
    for (let i = 0; i < argv.length && first === undefined; i++) {
      if (['-H', '--host', '-l', '--log-level'].includes(argv[i])) i++; // their values are not commands
      else if (!argv[i].startsWith('-')) first = argv[i];
    }
    if (first === name) await load(program, ctx, state);
    else styleCommand(program.command(name)).description(description).allowUnknownOption().allowExcessArguments();
  };
}

export async function registerAll(program: Command, ctx: CliContext, state: ExitState): Promise<void> {
  for (const register of registerCommandGroups) await register(program, ctx, state);
}
