#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner.
// `node scripts/test.mjs [filter...]` runs only files whose path contains a filter.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import cliLauncher from '../bin/cli-entry.js';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}
// Tests run bin/berth, which users get bundled: after a tsc-only build the
// bundle is stale (bin/berth would fall back to tsc's output), so refresh it
// first and test what users run.
const { cliEntry } = cliLauncher;
if (!cliEntry().includes('/dist/bundle/') || !cliEntry('compose-plugin').includes('/dist/bundle/')) {
  const b = spawnSync(process.execPath, ['scripts/bundle-cli.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

// Integration tests start daemons and containers: run files one at a time so
// two files never race for the same machine resources.
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
