/**
 * Progress lines in the two styles users know: docker compose's
 * (` ✔ Container app-web-1  Started`) and docker-compose 1.x's
 * (`Creating app_web_1 ... done`), chosen by the project's format.
 *
 *   const p = new Progress('v1', (s) => process.stderr.write(s));
 *   p.done('Container', 'app_web_1', 'Created')   // "Creating app_web_1 ... done"
 */
export type Kind = 'Container' | 'Network' | 'Volume' | 'Image';
export type Verb = 'Created' | 'Started' | 'Stopped' | 'Removed' | 'Recreated' | 'Running' | 'Killed' | 'Restarted'
  | 'Paused' | 'Unpaused' | 'Built' | 'Pulled' | 'Pushed' | 'Healthy' | 'Exited' | 'Waiting' | 'Downscaled';

const v1Verb: Record<Verb, string> = {
  Created: 'Creating', Started: 'Starting', Stopped: 'Stopping', Removed: 'Removing', Recreated: 'Recreating',
  Running: '', Killed: 'Killing', Restarted: 'Restarting', Paused: 'Pausing', Unpaused: 'Unpausing', Built: 'Building',
  Pulled: 'Pulling', Pushed: 'Pushing', Healthy: 'Waiting for', Exited: 'Waiting for', Waiting: 'Waiting for',
  Downscaled: 'Stopping and removing',
};

export class Progress {
  constructor(readonly style: 'v1' | 'v2', private readonly write: (text: string) => void) {}

  /** An action finished on one object. */
  done(kind: Kind, name: string, verb: Verb, extra?: { driver?: string }): void {
    if (this.style === 'v2') {
      const label = kind === 'Volume' ? `"${name}"` : name;
      if (verb === 'Downscaled') this.write(` ✔ ${kind} ${label}  Stopped\n ✔ ${kind} ${label}  Removed\n`);
      else this.write(` ✔ ${kind} ${label}  ${verb}\n`);
      return;
    }
    if (kind === 'Network' && verb === 'Created') {
      this.write(`Creating network "${name}" with ${extra?.driver ? `driver "${extra.driver}"` : 'the default driver'}\n`);
    } else if (kind === 'Volume' && verb === 'Created') {
      this.write(`Creating volume "${name}" with ${extra?.driver ? `${extra.driver} driver` : 'default driver'}\n`);
    } else if ((kind === 'Network' || kind === 'Volume') && verb === 'Removed') {
      this.write(`Removing ${kind.toLowerCase()} ${name}\n`);
    } else if (verb === 'Running') {
      this.write(`${name} is up-to-date\n`);
    } else {
      this.write(`${v1Verb[verb]} ${name} ... done\n`);
    }
  }

  /** An action failed on one object. */
  failed(kind: Kind, name: string, verb: Verb, message: string): void {
    if (this.style === 'v2') this.write(` ✘ ${kind} ${name}  Error ${message}\n`);
    else this.write(`${v1Verb[verb]} ${name} ... error\n\nERROR: for ${name}  ${message}\n`);
  }

  /** A free-form note, e.g. about orphans. */
  note(text: string): void {
    this.write(this.style === 'v2' ? `WARN[0000] ${text}\n` : `WARNING: ${text}\n`);
  }
}
