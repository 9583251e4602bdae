import { InvalidArgument } from '../../../common/errors.js';

/**
 * A Dockerfile problem found before anything runs, tied to its line:
 * `Dockerfile:7: unknown instruction: RUNN`. `detail` is Docker's own wording
 * without the location, for callers that format it differently.
 */
export class DockerfileError extends InvalidArgument {
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}:${line}: ${detail}`);
  }
}
