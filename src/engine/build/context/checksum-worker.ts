/** Worker thread entry for SourceHasher: runs hashTree off the daemon's event loop. */
import { parentPort } from 'node:worker_threads';
import { hashTree, type TreeOptions } from './checksum-tree.js';

parentPort?.on('message', (msg: { id: number; abs: string; opts: TreeOptions }) => {
  try {
    const { sums, links } = hashTree(msg.abs, msg.opts);
    parentPort!.postMessage({ id: msg.id, entries: [...sums], links });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: msg.id, error: { message: err.message, code: err.code } });
  }
});
