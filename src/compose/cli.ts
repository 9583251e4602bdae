import { createInterface } from 'node:readline/promises';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ComposeEngine } from './engine.js';
import { loadProject, type LoadOptions } from './load.js';
import { ComposeRunner, type ComposeIO } from './executor.js';
import { renderConfig, renderServices, renderVolumes } from './config-output.js';
import { serviceConfigHash } from './hash.js';
import { composeVersion } from './container-spec.js';
import * as q from './queries.js';
import { InvalidArgument } from '../common/errors.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * Adds `compose` and its subcommands (`up`, `down`, `ps`, `logs`, `config`,
 * ...) to a commander program. The engine is made only when a command needs
 * one, so `config` and `version` work without a daemon. `io` defaults to the
 * terminal.
 *
 *   registerComposeCommand(program, () => new ClientComposeEngine(client));
 *   // berth compose -f fig.yml up -d
 */
export function registerComposeCommand(program: Command, makeEngine: () => ComposeEngine, io: ComposeIO = terminalIO()): Command {
  const compose = program.command('compose').description('Define and run multi-container applications')
    .option('-f, --file <file>', 'compose configuration file (repeatable)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--project-directory <dir>', 'alternate working directory (default: the first file\'s directory)')
    .option('--env-file <file>', 'alternate environment file (repeatable)', collect)
    .option('--profile <profile>', 'profile to enable (repeatable)', collect)
    .option('--compatibility', 'run in backward compatibility mode (project_service_1 names)')
    .option('--ansi <when>', 'control when to print ANSI control characters (never|always|auto)', 'auto')
    .enablePositionalOptions();

  /** Loads the project with the global flags; `services` named on the line enable their profiles. */
  const load = (cmd: Command, services: string[] = []) => {
    const g = cmd.optsWithGlobals();
    const opts: LoadOptions = {
      files: g.file, projectName: g.projectName, projectDirectory: g.projectDirectory, envFiles: g.envFile,
      profiles: g.profile, compatibility: g.compatibility, enableServices: services,
    };
    if (g.file?.includes('-')) opts.stdin = readFileSync(0, 'utf8');
    return loadProject(opts);
  };
  const runnerFor = (cmd: Command, services: string[] = []) => new ComposeRunner(makeEngine(), load(cmd, services), io);
  const noColor = (cmd: Command, flag?: boolean) => !!flag || cmd.optsWithGlobals().ansi === 'never' || !process.stdout.isTTY;

  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) => async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } catch (err) {
      io.err(`${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  };

  compose.command('up').description('Create and start containers').argument('[services...]')
    .option('-d, --detach', 'run containers in the background')
    .option('--build', 'build images before starting containers')
    .option('--no-build', 'don\'t build an image, even if it\'s missing')
    .option('--force-recreate', 'recreate containers even if their configuration hasn\'t changed')
    .option('--no-recreate', 'if containers already exist, don\'t recreate them')
    .option('--no-deps', 'don\'t start linked services')
    .option('--no-start', 'don\'t start the services after creating them')
    .option('--scale <service=num>', 'scale a service (repeatable)', collect)
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('--abort-on-container-exit', 'stop all containers if any container was stopped')
    .option('--exit-code-from <service>', 'return the exit code of the selected service container')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds', parseInt10)
    .option('--no-color', 'produce monochrome output')
    .action(act(async (services: string[], o, cmd: Command) => {
      const r = runnerFor(cmd, services);
      return r.up({
        services, detach: o.detach, build: o.build === true, noBuild: o.build === false, forceRecreate: o.forceRecreate,
        noRecreate: o.recreate === false, noDeps: o.deps === false, noStart: o.start === false, scale: parseScale(o.scale ?? []),
        removeOrphans: o.removeOrphans, abortOnContainerExit: o.abortOnContainerExit, exitCodeFrom: o.exitCodeFrom,
        timeout: o.timeout, noColor: noColor(cmd, o.color === false),
      });
    }));

  compose.command('create').description('Create containers for a service').argument('[services...]')
    .option('--build', 'build images before creating containers').option('--no-build', 'don\'t build an image')
    .option('--force-recreate', 'recreate containers even if unchanged').option('--no-recreate', 'don\'t recreate existing containers')
    .action(act(async (services: string[], o, cmd: Command) => {
      await runnerFor(cmd, services).up({ services, noStart: true, build: o.build === true, noBuild: o.build === false,
        forceRecreate: o.forceRecreate, noRecreate: o.recreate === false });
    }));

  compose.command('down').description('Stop and remove containers, networks')
    .option('-v, --volumes', 'remove named volumes declared in the volumes section and anonymous volumes')
    .addOption(new Option('--rmi <type>', 'remove images used by services').choices(['all', 'local']))
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds', parseInt10)
    .action(act(async (o, cmd: Command) => {
      await runnerFor(cmd).down({ volumes: o.volumes, rmi: o.rmi, removeOrphans: o.removeOrphans, timeout: o.timeout });
    }));

  compose.command('start').description('Start services').argument('[services...]')
    .action(act(async (services: string[], _o, cmd: Command) => runnerFor(cmd, services).start(services)));
  compose.command('stop').description('Stop services').argument('[services...]')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds', parseInt10)
    .action(act(async (services: string[], o, cmd: Command) => runnerFor(cmd, services).stop(services, o.timeout)));
  compose.command('restart').description('Restart service containers').argument('[services...]')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds', parseInt10)
    .action(act(async (services: string[], o, cmd: Command) => runnerFor(cmd, services).restart(services, o.timeout)));
  compose.command('kill').description('Force stop service containers').argument('[services...]')
    .option('-s, --signal <signal>', 'signal to send', 'SIGKILL')
    .action(act(async (services: string[], o, cmd: Command) => runnerFor(cmd, services).kill(services, o.signal)));
  compose.command('pause').description('Pause services').argument('[services...]')
    .action(act(async (services: string[], _o, cmd: Command) => runnerFor(cmd, services).pause(services)));
  compose.command('unpause').description('Unpause services').argument('[services...]')
    .action(act(async (services: string[], _o, cmd: Command) => runnerFor(cmd, services).pause(services, true)));
  compose.command('scale').description('Scale services').argument('<service=num...>')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds', parseInt10)
    .action(act(async (pairs: string[], o, cmd: Command) => {
      const counts = parseScale(pairs);
      await runnerFor(cmd, Object.keys(counts)).scale(counts, o.timeout);
    }));
  compose.command('rm').description('Removes stopped service containers').argument('[services...]')
    .option('-f, --force', 'don\'t ask to confirm removal').option('-s, --stop', 'stop the containers, if required, before removing')
    .option('-v, --volumes', 'remove any anonymous volumes attached to containers')
    .action(act(async (services: string[], o, cmd: Command) => runnerFor(cmd, services).rm(services, { force: o.force, stop: o.stop, volumes: o.volumes })));

  compose.command('ps').description('List containers').argument('[services...]')
    .option('-a, --all', 'show all stopped containers').option('-q, --quiet', 'only display IDs')
    .option('--services', 'display services').option('--format <format>', 'table, json or a Go-style template', 'table')
    .action(act(async (services: string[], o, cmd: Command) => q.ps(runnerFor(cmd, services), { all: o.all, quiet: o.quiet, services: o.services, format: o.format, filterServices: services })));
  compose.command('logs').description('View output from containers').argument('[services...]')
    .option('-f, --follow', 'follow log output').option('--tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'show timestamps').option('--no-color', 'produce monochrome output')
    .action(act(async (services: string[], o, cmd: Command) => q.logs(runnerFor(cmd, services), services,
      { follow: o.follow, tail: o.tail, timestamps: o.timestamps, noColor: noColor(cmd, o.color === false) })));
  compose.command('top').description('Display the running processes').argument('[services...]')
    .action(act(async (services: string[], _o, cmd: Command) => q.top(runnerFor(cmd, services), services)));
  compose.command('port').description('Print the public port for a port binding').argument('<service>').argument('<private_port>')
    .option('--protocol <proto>', 'tcp or udp', 'tcp').option('--index <n>', 'index of the container if there are several', parseInt10, 1)
    .action(act(async (service: string, port: string, o, cmd: Command) => q.port(runnerFor(cmd, [service]), service, port, { protocol: o.protocol, index: o.index })));
  compose.command('images').description('List images used by the created containers').argument('[services...]')
    .option('-q, --quiet', 'only display IDs')
    .action(act(async (services: string[], o, cmd: Command) => q.images(runnerFor(cmd, services), services, o.quiet)));

  compose.command('exec').description('Execute a command in a running container').argument('<service>').argument('<command...>')
    .option('-d, --detach', 'run the command in the background').option('-T, --no-TTY', 'disable pseudo-TTY allocation')
    .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect).option('-w, --workdir <dir>', 'working directory')
    .option('-u, --user <user>', 'run as this user').option('--index <n>', 'index of the container', parseInt10, 1)
    .option('--privileged', 'give extended privileges to the process')
    .passThroughOptions()
    .action(act(async (service: string, command: string[], o, cmd: Command) => q.exec(runnerFor(cmd, [service]), service, command, {
      index: o.index, tty: o.TTY !== false && !!process.stdin.isTTY, interactive: !o.detach, env: o.env, workdir: o.workdir,
      user: o.user, privileged: o.privileged, detach: o.detach,
    })));
  compose.command('run').description('Run a one-off command on a service').argument('<service>').argument('[command...]')
    .option('--rm', 'remove the container when it exits').option('-d, --detach', 'run in the background and print the name')
    .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect)
    .option('-l, --label <KEY=VAL>', 'add or override a label (repeatable)', collect)
    .option('--no-deps', 'don\'t start linked services').option('-p, --publish <port>', 'publish a port (repeatable)', collect)
    .option('--service-ports', 'run with the service\'s ports published').option('--entrypoint <cmd>', 'override the entrypoint')
    .option('--name <name>', 'name of the container').option('-u, --user <user>', 'run as this user')
    .option('-w, --workdir <dir>', 'working directory').option('-T, --no-TTY', 'disable pseudo-TTY allocation')
    .passThroughOptions()
    .action(act(async (service: string, command: string[], o, cmd: Command) => q.run(runnerFor(cmd, [service]), service, command, {
      rm: o.rm, detach: o.detach, env: o.env, labels: o.label, noDeps: o.deps === false, publish: o.publish, servicePorts: o.servicePorts,
      entrypoint: o.entrypoint, name: o.name, user: o.user, workdir: o.workdir,
      tty: o.TTY === false ? false : o.detach ? false : !!process.stdin.isTTY, interactive: !o.detach,
    })));

  compose.command('build').description('Build or rebuild services').argument('[services...]')
    .option('--no-cache', 'do not use cache when building').option('--pull', 'always try to pull a newer base image')
    .action(act(async (services: string[], o, cmd: Command) => {
      const r = runnerFor(cmd, services);
      r.checkServices(services);
      await r.build(services.length ? services : Object.keys(r.project.services), { noCache: o.cache === false, pull: o.pull });
    }));
  compose.command('pull').description('Pull service images').argument('[services...]')
    .option('--ignore-pull-failures', 'pull what it can and ignore images with pull failures')
    .action(act(async (services: string[], o, cmd: Command) => q.pull(runnerFor(cmd, services), services, { ignoreFailures: o.ignorePullFailures })));
  compose.command('push').description('Push service images').argument('[services...]')
    .action(act(async (services: string[], _o, cmd: Command) => q.push(runnerFor(cmd, services), services)));

  compose.command('config').description('Parse, resolve and render the compose file in canonical format').argument('[services...]')
    .option('-q, --quiet', 'only validate the configuration, don\'t print anything')
    .option('--services', 'print the service names, one per line').option('--volumes', 'print the volume names, one per line')
    .option('--hash <services>', 'print the service config hash, one per line (`*` for all)')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(act(async (services: string[], o, cmd: Command) => {
      const p = load(cmd, services);
      if (services.length) {
        for (const s of services) if (!p.services[s]) throw new InvalidArgument(`no such service: ${s}`);
        p.services = Object.fromEntries(Object.entries(p.services).filter(([k]) => services.includes(k)));
      }
      if (o.quiet) return;
      if (o.services) return io.out(renderServices(p));
      if (o.volumes) return io.out(renderVolumes(p));
      if (o.hash) {
        const names = o.hash === '*' ? Object.keys(p.services).sort() : String(o.hash).split(',');
        for (const n of names) {
          if (!p.services[n]) throw new InvalidArgument(`no such service: ${n}`);
          io.out(`${n} ${serviceConfigHash(p.services[n])}\n`);
        }
        return;
      }
      io.out(renderConfig(p, o.format));
    }));

  compose.command('version').description('Show the compose version information')
    .option('--short', 'show only the version number')
    .action(act(async (o) => {
      io.out(o.short ? `${composeVersion}\n` : `Berth Compose version v${composeVersion}\n`);
    }));
  return compose;
}

/** `web=3` pairs as `{ web: 3 }`. */
export function parseScale(pairs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([^=]+)=(\d+)$/.exec(p);
    if (!m) throw new InvalidArgument(`invalid scale specifier: ${p} (want SERVICE=NUM)`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function parseInt10(v: string): number {
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || String(n) !== v.trim()) throw new InvalidArgument(`invalid number: ${v}`);
  return n;
}

/** Output to the process's streams; Ctrl-C and confirmations from the terminal. */
export function terminalIO(): ComposeIO {
  return {
    out: (t) => { process.stdout.write(t); },
    err: (t) => { process.stderr.write(t); },
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
    onInterrupt: (handler) => {
      let count = 0;
      const h = () => {
        if (++count > 1) process.exit(130);
        handler();
      };
      process.on('SIGINT', h);
      return () => process.off('SIGINT', h);
    },
  };
}
