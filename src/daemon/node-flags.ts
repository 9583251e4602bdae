/**
 * V8 flags berthd runs with. `bin/berthd` carries them on its `#!` line and
 * the test and bench daemons pass them too (a test keeps the two in step).
 *
 * --max-semi-space-size=1: the young generation grows to 16 MB semi-spaces
 * under a burst of requests and stays there; capped at 1 MB the daemon with
 * 50 containers running measured 67 MB RSS instead of 82 MB, for a few more
 * (cheap: little survives a request) scavenges.
 *
 *   spawn(process.execPath, [...daemonNodeFlags, 'dist/src/daemon/main.js', ...args]);
 */
export const daemonNodeFlags: readonly string[] = ['--max-semi-space-size=1'];
