import type { CommandSpec } from './define.js';

/**
 * Every command `berth` has, by a short key, with its one-line description
 * (for help listings) and a loader for its full spec. Only the command that
 * runs is loaded: importing every command module with its flags, formatters
 * and stream code cost ~100 ms per invocation. The description repeats the
 * spec's own; catalog.test.ts checks they agree.
 *
 *   const spec = await SPECS.run.load();   // imports ./run.js only
 */
export interface SpecRef {
  description: string;
  load: () => Promise<CommandSpec>;
}

const ref = (description: string, load: () => Promise<CommandSpec>): SpecRef => ({ description, load });
const volume = (name: string) => async () => (await import('./volume-network.js')).VOLUME_COMMANDS.find((c) => c.name === name)!;
const network = (name: string) => async () => (await import('./volume-network.js')).NETWORK_COMMANDS.find((c) => c.name === name)!;

export const SPECS = {
  attach: ref('Attach local standard input, output, and error streams to a running container', async () => (await import('./lifecycle.js')).attach),
  build: ref('Build an image from a Dockerfile', async () => (await import('./build.js')).build),
  commit: ref("Create a new image from a container's changes", async () => (await import('./pull-commit.js')).commit),
  containerInspect: ref('Display detailed information on one or more containers', async () => (await import('./inspect.js')).containerInspect),
  cp: ref("Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.", async () => (await import('./cp.js')).cp),
  create: ref('Create a new container', async () => (await import('./run.js')).create),
  diff: ref("Inspect changes to files or directories on a container's filesystem", async () => (await import('./diff.js')).diff),
  events: ref('Get real time events from the server', async () => (await import('./system.js')).events),
  exec: ref('Execute a command in a running container', async () => (await import('./exec.js')).exec),
  exportCmd: ref("Export a container's filesystem as a tar archive", async () => (await import('./lifecycle.js')).exportCmd),
  history: ref('Show the history of an image', async () => (await import('./images.js')).history),
  imageInspect: ref('Display detailed information on one or more images', async () => (await import('./inspect.js')).imageInspect),
  imagePrune: ref('Remove unused images', async () => (await import('./images.js')).imagePrune),
  images: ref('List images', async () => (await import('./images.js')).images),
  importCmd: ref('Import the contents from a tarball to create a filesystem image', async () => (await import('./images.js')).importCmd),
  info: ref('Display system-wide information', async () => (await import('./system.js')).info),
  inspect: ref('Return low-level information on Berth objects', async () => (await import('./inspect.js')).inspect),
  kill: ref('Kill one or more running containers', async () => (await import('./lifecycle.js')).kill),
  load: ref('Load an image from a tar archive or STDIN', async () => (await import('./images.js')).load),
  login: ref('Log in to a registry', async () => (await import('./push-login.js')).login),
  logout: ref('Log out from a registry', async () => (await import('./push-login.js')).logout),
  logs: ref('Fetch the logs of a container', async () => (await import('./logs.js')).logs),
  pause: ref('Pause all processes within one or more containers', async () => (await import('./lifecycle.js')).pause),
  port: ref('List port mappings or a specific mapping for the container', async () => (await import('./lifecycle.js')).port),
  prune: ref('Remove all stopped containers', async () => (await import('./lifecycle.js')).prune),
  ps: ref('List containers', async () => (await import('./ps.js')).ps),
  pull: ref('Download an image from a registry', async () => (await import('./pull-commit.js')).pull),
  push: ref('Upload an image to a registry', async () => (await import('./push-login.js')).push),
  rename: ref('Rename a container', async () => (await import('./lifecycle.js')).rename),
  restart: ref('Restart one or more containers', async () => (await import('./lifecycle.js')).restart),
  rm: ref('Remove one or more containers', async () => (await import('./lifecycle.js')).rm),
  rmi: ref('Remove one or more images', async () => (await import('./images.js')).rmi),
  run: ref('Create and run a new container from an image', async () => (await import('./run.js')).run),
  save: ref('Save one or more images to a tar archive (streamed to STDOUT by default)', async () => (await import('./images.js')).save),
  start: ref('Start one or more stopped containers', async () => (await import('./run.js')).start),
  stats: ref('Display a live stream of container(s) resource usage statistics', async () => (await import('./stats.js')).stats),
  stop: ref('Stop one or more running containers', async () => (await import('./lifecycle.js')).stop),
  systemDf: ref('Show docker disk usage', async () => (await import('./system-df.js')).systemDf),
  systemPrune: ref('Remove unused data', async () => (await import('./system-prune.js')).systemPrune),
  tag: ref('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', async () => (await import('./images.js')).tag),
  top: ref('Display the running processes of a container', async () => (await import('./lifecycle.js')).top),
  update: ref('Update configuration of one or more containers', async () => (await import('./update.js')).update),
  unpause: ref('Unpause all processes within one or more containers', async () => (await import('./lifecycle.js')).unpause),
  version: ref('Show the Berth version information', async () => (await import('./system.js')).version),
  wait: ref('Block until one or more containers stop, then print their exit codes', async () => (await import('./lifecycle.js')).wait),

  volumeCreate: ref('Create a volume', volume('create')),
  volumeLs: ref('List volumes', volume('ls')),
  volumeInspect: ref('Display detailed information on one or more volumes', volume('inspect')),
  volumeRm: ref('Remove one or more volumes', volume('rm')),
  volumePrune: ref('Remove unused local volumes', volume('prune')),

  networkCreate: ref('Create a network', network('create')),
  networkLs: ref('List networks', network('ls')),
  networkInspect: ref('Display detailed information on one or more networks', network('inspect')),
  networkRm: ref('Remove one or more networks', network('rm')),
  networkPrune: ref('Remove all unused networks', network('prune')),
  networkConnect: ref('Connect a container to a network', network('connect')),
  networkDisconnect: ref('Disconnect a container from a network', network('disconnect')),
} satisfies Record<string, SpecRef>;

export type SpecKey = keyof typeof SPECS;
