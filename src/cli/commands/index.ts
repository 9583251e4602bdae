import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { SPECS, type SpecKey } from './catalog.js';
import { mount, styleCommand, type ExitState } from './define.js';

/**
 * Every `berth` command, registered once here. A command group written
 * elsewhere (registry, compose) adds one line to `registerCommandGroups`:
 * a function that mounts its commands on the program.
 *
 *   registerCompose(program, ctx, state);   // in src/cli/commands/compose.ts
 *
 * Only the command the command line names is loaded and mounted for real;
 * every other one is a stub carrying its name and description, which is all
 * help listings need. Node loads ES modules one file at a time, and loading
 * them all cost more than the rest of a `berth run --rm`'s client side.
 */
export type CommandGroup = (program: Command, ctx: CliContext, state: ExitState) => void | Promise<void>;

/** Where a spec is mounted: its key, the name there, and extra aliases. */
type Site = [SpecKey, string, string[]?];

const MANAGEMENT: { name: string; description: string; sites: Site[] }[] = [
  {
    name: 'container', description: 'Manage containers', sites: [
      ['attach', 'attach'], ['commit', 'commit'], ['cp', 'cp'], ['create', 'create'], ['diff', 'diff'], ['exec', 'exec'], ['exportCmd', 'export'],
      ['containerInspect', 'inspect'], ['kill', 'kill'], ['logs', 'logs'], ['ps', 'ls', ['list', 'ps']], ['pause', 'pause'],
      ['port', 'port'], ['prune', 'prune'], ['rename', 'rename'], ['restart', 'restart'], ['rm', 'rm', ['remove']], ['run', 'run'],
      ['start', 'start'], ['stats', 'stats'], ['stop', 'stop'], ['top', 'top'], ['unpause', 'unpause'], ['update', 'update'], ['wait', 'wait'],
    ],
  },
  {
    name: 'image', description: 'Manage images', sites: [
      ['build', 'build'], ['history', 'history'], ['importCmd', 'import'], ['pull', 'pull'], ['push', 'push'], ['imageInspect', 'inspect'], ['load', 'load'],
      ['images', 'ls', ['list']], ['imagePrune', 'prune'], ['rmi', 'rm', ['remove']], ['save', 'save'], ['tag', 'tag'],
    ],
  },
  { name: 'system', description: 'Manage Berth', sites: [['systemDf', 'df'], ['events', 'events'], ['info', 'info'], ['systemPrune', 'prune']] },
  {
    name: 'volume', description: 'Manage volumes', sites: [
      ['volumeCreate', 'create'], ['volumeLs', 'ls', ['list']], ['volumeInspect', 'inspect'], ['volumeRm', 'rm', ['remove']], ['volumePrune', 'prune'],
    ],
  },
  {
    name: 'network', description: 'Manage networks', sites: [
      ['networkCreate', 'create'], ['networkLs', 'ls', ['list']], ['networkInspect', 'inspect'], ['networkRm', 'rm', ['remove']],
      ['networkPrune', 'prune'], ['networkConnect', 'connect'], ['networkDisconnect', 'disconnect'],
    ],
  },
];

const TOP_LEVEL: Site[] = ([
  'attach', 'build', 'commit', 'cp', 'create', 'diff', 'events', 'exec', ['exportCmd', 'export'], 'history', 'images', ['importCmd', 'import'],
  'info', 'inspect', 'kill', 'load', 'login', 'logout', 'logs', 'pause', 'port', 'ps', 'pull', 'push', 'rename', 'restart', 'rm', 'rmi', 'run',
  'save', 'start', 'stats', 'stop', 'tag', 'top', 'unpause', 'update', 'version', 'wait',
] as (SpecKey | Site)[]).map((s) => (typeof s === 'string' ? [s, s] : s));

/** The first two words of the command line that are not global options or their values. */
export function commandWords(argv: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    if (words.length === 0 && ['-H', '--host', '-l', '--log-level'].includes(argv[i])) i++; // their values are not commands
    else if (!argv[i].startsWith('-')) words.push(argv[i]);
    else if (words.length === 1) break; // `berth run -d …`: the rest belongs to the command
  }
  return words;
}

/**
 * What a command line asks for, read before commander parses it: the command
 * word, the `-H` value, and whether it is a command that talks to the daemon
 * (not help, not `logout`, not compose or registry, which manage their own).
 *
 *   preScan(['-H', 'unix:///x.sock', 'run', '--rm', 'busybox'])  // { host: 'unix:///x.sock', daemonCommand: true }
 */
export function preScan(argv: string[]): { host?: string; daemonCommand: boolean } {
  let host: string | undefined;
  let word: string | undefined;
  for (let i = 0; i < argv.length && word === undefined; i++) {
    const a = argv[i];
    if (a === '-H' || a === '--host') host = argv[++i];
    else if (a.startsWith('--host=')) host = a.slice('--host='.length);
    else if (/^-H./.test(a)) host = a.slice(2);
    else if (a === '-l' || a === '--log-level') i++;
    else if (!a.startsWith('-')) word = a;
  }
  const known = word !== 'logout' && isKnownCommand(word);
  return { host, daemonCommand: known && !argv.includes('--help') };
}

const named = (site: Site, word: string | undefined) => word !== undefined && (site[1] === word || (site[2] ?? []).includes(word));

async function registerContainerAndImageCommands(program: Command, ctx: CliContext, state: ExitState): Promise<void> {
  const [first, second] = commandWords(process.argv.slice(2));
  // Every name a spec goes by, so its help can list the others as Docker's does.
  const aliasesOf = (key: SpecKey) => [
    ...MANAGEMENT.flatMap((g) => g.sites.filter((s) => s[0] === key).flatMap((s) => [s[1], ...(s[2] ?? [])].map((n) => `berth ${g.name} ${n}`))),
    ...TOP_LEVEL.filter((s) => s[0] === key).map((s) => `berth ${s[1]}`),
  ];
  const place = async (parent: Command, site: Site, invoked: boolean) => {
    const [key, name, aliases = []] = site;
    if (!invoked) {
      const stub = styleCommand(parent.command(name)).description(SPECS[key].description.split('\n')[0]).allowUnknownOption();
      for (const a of aliases) stub.alias(a);
      return;
    }
    const cmd = mount(parent, await SPECS[key].load(), ctx, state, name, aliases);
    const names = aliasesOf(key);
    if (names.length > 1) (cmd as any).berthAliases = names;
  };
  // A command line that names a known command needs no listing of the
  // others (help and "not a berth command" do): skipping their ~100 stubs
  // saves ~5 ms of every command.
  const onlyInvoked = isKnownCommand(first);
  for (const g of MANAGEMENT) {
    if (onlyInvoked && first !== g.name) continue;
    const group = styleCommand(program.command(g.name)).description(g.description).usage('COMMAND').enablePositionalOptions();
    for (const site of g.sites) await place(group, site, first === g.name && named(site, second));
  }
  for (const site of TOP_LEVEL) {
    if (onlyInvoked && !named(site, first)) continue;
    await place(program, site, named(site, first));
  }
}

/** Whether `word` is a management group or a top-level command of the table above (not registry/compose). */
function isKnownCommand(word: string | undefined): boolean {
  return word !== undefined && (MANAGEMENT.some((g) => g.name === word) || TOP_LEVEL.some((s) => named(s, word)));
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
    const first = commandWords(process.argv.slice(2))[0];
    if (first === name) await load(program, ctx, state);
    else if (!isKnownCommand(first)) styleCommand(program.command(name)).description(description).allowUnknownOption().allowExcessArguments();
  };
}

export async function registerAll(program: Command, ctx: CliContext, state: ExitState): Promise<void> {
  for (const register of registerCommandGroups) await register(program, ctx, state);
}
