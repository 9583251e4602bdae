import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';

/** The seed's fig.yml, as the talk showed it. */
export const seedFig = `web:
  image: php:5.6-apache
  links:
    - db:mysql
  volumes:
   - .:/var/www/html
  ports:
   - "80:80"
db:
  image: postgres
`;

/**
 * Writes `files` (relative path → text) under a fresh temp directory named
 * `dirName` and returns its path; the directory goes when the test file ends.
 *
 *   const dir = project({ 'compose.yaml': 'services: ...' });
 */
export function project(files: Record<string, string>, dirName = 'app'): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-compose-test-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, dirName);
  mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}
