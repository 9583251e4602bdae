#!/usr/bin/env node
// Creates the built-in `registry` image (registry:latest and registry:2) in a
// berthd from this checkout's compiled registry and the host's node, so that
// `berth run -d -p 5000:5000 registry` works with no Docker Hub. Run by
// setup.sh after the build; `--force` replaces an existing one.
//
//   node scripts/registry-image.mjs [-H unix:///run/berth.sock] [--force]
import { EngineClient } from '../dist/src/client/index.js';
import { registryImageChanges, registryImageRootfs } from '../dist/src/engine/images/registry-image.js';

const args = process.argv.slice(2);
const hi = args.indexOf('-H');
const client = new EngineClient(EngineClient.hostFromEnv(hi >= 0 ? args[hi + 1] : undefined));
try {
  const have = await client.json('GET', '/images/registry:latest/json').catch(() => undefined);
  if (have && !args.includes('--force')) {
    console.log(`registry:latest exists (${have.Id})`);
  } else {
    const rootfs = await registryImageRootfs();
    const res = await client.request('POST', '/images/create', {
      query: { fromSrc: '-', repo: 'registry', tag: 'latest', changes: registryImageChanges, message: 'berth registry (berth built-in)' },
      body: rootfs, contentType: 'application/x-tar',
    });
    let id = '';
    for await (const m of client.jsonLines(res)) if (m.status) id = m.status;
    await client.request('POST', `/images/registry:latest/tag`, { query: { repo: 'registry', tag: '2' } });
    console.log(`registry:latest ${id}`);
  }
} finally {
  client.close();
}
