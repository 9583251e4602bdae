/**
 * The builder's front end: everything about a build that can be decided
 * without running a container. The executor (which runs RUN steps and
 * commits layers) drives it in this order:
 *
 *   const ctx = await contextFromTar(req, { tmpRoot });         // context.ts
 *   const text = await ctx.readDockerfile(dockerfilePath);
 *   await ctx.hideBuildFiles(dockerfilePath);
 *   const df = parseStages(text, dockerfilePath);              // dockerfile/instructions.ts
 *   const baseConfigs = await lookUp(requiredImages(df, opts)); // plan.ts; pull or find locally
 *   const plan = planBuild(df, { ...opts, baseConfigs });       // every error surfaces here
 *   for (const step of plan.steps) { ... }                      // see plan.ts for the loop
 *
 * Parsing and planning throw DockerfileError (`Dockerfile:7: unknown
 * instruction: RUNN`); context operations throw NotFound/InvalidArgument with
 * Docker's COPY messages.
 */
export { parseStages, type ParsedDockerfile, type Stage, type Instruction } from './dockerfile/instructions.js';
export { DockerfileError } from './dockerfile/errors.js';
export { planBuild, requiredImages, type BuildPlan, type PlanOptions, type Step } from './plan.js';
export type { FromStep, RunStep, CopyStep, WorkdirStep, ConfigStep, MetaArgStep, InlineFile } from './steps.js';
export { stepCacheKey, copyCreatedBy, type CopyKeyInputs } from './cache-key.js';
export { messages, runFailedMessage } from './messages.js';
export {
  contextFromTar, contextFromDirectory, packContext, sendingContextLine, copyTargets,
  type BuildContext, type CopySource, type CopyTarget,
} from './context.js';
