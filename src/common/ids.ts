import { randomBytes } from 'node:crypto';

/** A 64-hex-digit object ID, as Docker uses for containers and execs. */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    // Docker avoids all-numeric short IDs: they read as numbers in shells and templates.
    if (!/^\d{12}$/.test(id.slice(0, 12))) return id;
  }
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Container names as Docker accepts them: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. */
export const validName = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const adjectives = ['admiring', 'brave', 'busy', 'calm', 'clever', 'dreamy', 'eager', 'focused', 'gallant', 'happy',
  'jolly', 'keen', 'loving', 'modest', 'nifty', 'quirky', 'relaxed', 'sharp', 'stoic', 'tender', 'vibrant', 'wizardly', 'zealous'];
const surnames = ['archimedes', 'babbage', 'curie', 'darwin', 'euler', 'fermat', 'galileo', 'hopper', 'kepler', 'lovelace',
  'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'wozniak', 'yalow'];

/** A random `adjective_surname` name like Docker's, e.g. `sharp_wozniak`. */
export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const a = adjectives[randomBytes(1)[0] % adjectives.length];
    const s = surnames[randomBytes(1)[0] % surnames.length];
    const name = i < 10 ? `${a}_${s}` : `${a}_${s}${i}`;
    if (!taken(name)) return name;
  }
}
