/**
 * The legacy builder's progress lines, so the executor prints exactly what
 * `docker build` (classic) prints and clients that parse it keep working
 * (docker-compose 1.29 reads `Successfully built <id>`).
 *
 *   out.write(messages.runningIn(containerId))   // ' ---> Running in 701da73cbfdb\n'
 */
import { shortId } from '../../common/ids.js';
import type { RunStep } from './steps.js';

export const messages = {
  /** After FROM and after every step: the image the next step builds on. */
  imageId: (id: string) => ` ---> ${shortId(id)}\n`,
  usingCache: () => ' ---> Using cache\n',
  runningIn: (containerId: string) => ` ---> Running in ${shortId(containerId)}\n`,
  removingIntermediate: (containerId: string) => `Removing intermediate container ${shortId(containerId)}\n`,
  successfullyBuilt: (id: string) => `Successfully built ${shortId(id)}\n`,
  successfullyTagged: (ref: string) => `Successfully tagged ${ref}\n`,
  /** `ONBUILD` triggers about to run. */
  executingTriggers: (n: number) => `# Executing ${n} build trigger${n === 1 ? '' : 's'}\n`,
};

/** The error a failing RUN ends the build with: `The command '/bin/sh -c false' returned a non-zero code: 1`. */
export function runFailedMessage(step: Pick<RunStep, 'argv'>, code: number): string {
  return `The command '${step.argv.join(' ')}' returned a non-zero code: ${code}`;
}
