import type { Command, Help, Option } from 'commander';
import { commandPath } from './cli-context.js';

/**
 * Help text laid out like the docker CLI's: a "Usage:" line with the command's
 * argument synopsis, the description, aliases, then options and subcommands.
 */
export function formatHelp(cmd: Command, helper: Help): string {
  const lines: string[] = [''];
  const path = commandPath(cmd);
  const isRoot = !cmd.parent;
  lines.push(`Usage:  ${path} ${cmd.usage()}`.trimEnd(), '');
  if (cmd.description()) lines.push(cmd.description(), '');
  const aliases = (cmd as any).berthAliases as string[] | undefined;
  if (aliases?.length) lines.push('Aliases:', `  ${aliases.join(', ')}`, '');

  const opts = helper.visibleOptions(cmd).sort((a, b) => (a.long ?? '').localeCompare(b.long ?? ''));
  if (opts.length) {
    const terms = opts.map(optionTerm);
    const width = Math.max(...terms.map((t) => t.length)) + 3;
    lines.push(isRoot ? 'Global Options:' : 'Options:');
    opts.forEach((o, i) => lines.push(`${terms[i].padEnd(width)}${optionDesc(o).split('\n').join(`\n${' '.repeat(width)}`)}`.trimEnd()));
    lines.push('');
  }

  const subs = helper.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  if (subs.length) {
    const mgmt = subs.filter((c) => c.commands.length > 0);
    const plain = subs.filter((c) => c.commands.length === 0);
    const width = Math.max(...subs.map((c) => c.name().length)) + 3;
    const section = (title: string, list: Command[]) => {
      if (!list.length) return;
      lines.push(title);
      for (const c of list) lines.push(`  ${c.name().padEnd(width)}${c.description()}`);
      lines.push('');
    };
    section('Management Commands:', mgmt);
    section('Commands:', plain);
    lines.push(`Run '${path} COMMAND --help' for more information on a command.`, '');
  }
  return lines.join('\n');
}

function optionTerm(o: Option): string {
  const type = /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags);
  const long = o.long ?? '';
  const head = o.short ? `  ${o.short}, ${long}` : `      ${long}`;
  // `[bool]` options are Docker's booleans that also take `=false`: shown bare.
  return type && type[2] !== 'bool' ? `${head} ${type[1] ?? type[2]}` : head;
}

function optionDesc(o: Option): string {
  const d = o.defaultValue;
  if (typeof d === 'string' && d !== '') return `${o.description} (default "${d}")`;
  if (typeof d === 'number' || d === true) return `${o.description} (default ${d})`;
  return o.description;
}
