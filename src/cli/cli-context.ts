import { Command } from 'commander';
import { EngineClient } from '../client/index.js';

/** Ends a command with an exit code, optionally printing `message` on stderr first. */
export class CliExit extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
    this.name = 'CliExit';
  }
}

/**
 * What every command needs: the Engine API client for the chosen host, and
 * the process streams. One per `berth` invocation; the client is made lazily
 * so `--help` never touches the daemon.
 *
 *   const list = await ctx.client().json('GET', '/containers/json');
 */
export class CliContext {
  private engine: EngineClient | undefined;
  constructor(private readonly program: Command, readonly env: NodeJS.ProcessEnv = process.env) {}

  get host(): string {
    return EngineClient.hostFromEnv(this.program.opts().host as string | undefined, this.env);
  }

  client(): EngineClient {
    // Like DOCKER_API_VERSION: pin the API version instead of negotiating.
    const pinned = this.env.BERTH_API_VERSION || this.env.DOCKER_API_VERSION || undefined;
    this.engine ??= new EngineClient(this.host, { version: pinned });
    return this.engine;
  }

  out(s: string): void {
    process.stdout.write(s);
  }

  err(s: string): void {
    process.stderr.write(s);
  }

  close(): void {
    this.engine?.close();
  }
}

/** "berth container ls" for a (sub)command, as usage lines and hints name it. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
