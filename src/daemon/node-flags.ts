/**
 * V8 flags berthd runs with. `bin/berthd` carries them on its `#!` line and
 * the test and bench daemons pass them too (a test keeps the two in step).
 *
 * --max-semi-space-size=1: the young generation grows to 16 MB semi-spaces
 * under a burst of requests and stays there; capped at 1 MB the daemon with
 * 50 containers running measured 67 MB RSS instead of 82 MB, for a few more
 * (cheap: little survives a request) scavenges.
 *
 * --initial-heap-size=32: with the old generation's limit starting at V8's
 * default, the daemon's small heap (~10 MB live) was marked and compacted
 * every ~0.4 MB promoted: ~45 full GCs while 8 × 100 MiB `cp` uploads
 * passed through the HTTP server (`GC in old space requested`), ~10 ms of
 * main thread each. From 32 MB on (16 and 24 did not help) it was 1 in 24
 * uploads, and an upload took 0.30 s instead of 0.40 (medians of 8). Cost:
 * RSS with 50 containers 72 → 79 MB.
 *
 *   spawn(process.execPath, [...daemonNodeFlags, 'dist/src/daemon/main.js', ...args]);
 */
export const daemonNodeFlags: readonly string[] = ['--max-semi-space-size=1', '--initial-heap-size=32'];
