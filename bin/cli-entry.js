// Loads the berth CLI for bin/berth and bin/fig: the esbuild bundle that
// `npm run build` writes (dist/bundle/, see scripts/bundle-cli.mjs) when it is
// at least as new as tsc's last output, else the plain tsc output. The check
// keeps a later tsc-only build (`npx tsc -p .`) from being shadowed by a stale
// bundle; it costs two stat calls.
import { statSync } from 'node:fs';

const defaultDist = new URL('../dist/', import.meta.url);

/**
 * The module URL to import for `which`: `berth` (the CLI) or `compose-plugin`
 * (the docker CLI plugin); `dist` is the build output directory (a URL ending in /).
 *
 *   await import(cliEntry());   // file:///…/dist/bundle/berth.js after `npm run build`
 */
export function cliEntry(which = 'berth', dist = defaultDist) {
  const bundle = new URL(`bundle/${which}.js`, dist);
  const bundled = statSync(bundle, { throwIfNoEntry: false });
  const compiled = statSync(new URL('.tsbuildinfo', dist), { throwIfNoEntry: false });
  if (bundled && (!compiled || bundled.mtimeMs >= compiled.mtimeMs)) return bundle.href;
  return new URL(which === 'berth' ? 'src/cli/main.js' : 'src/compose/plugin-main.js', dist).href;
}
