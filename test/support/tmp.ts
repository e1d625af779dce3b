// A temporary folder per describe() block for node:test suites that work with real files.
import { after, before } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

export interface TempRoot {
  /** The folder (set once the suite's `before` hooks have run). */
  readonly path: string;
  /** `<folder>/<name>-<n>`, a path no other call returns; nothing is created. */
  unique(name: string): string;
}

/**
 * Call inside describe(): makes a folder named `<prefix>XXXXXX` in the OS temp folder before the
 * suite's tests and removes it, with everything in it, after them.
 */
export function tempRoot(prefix: string): TempRoot {
  let root = '';
  let n = 0;
  before(() => {
    root = fs.mkdtempSync(join(os.tmpdir(), prefix));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  return {
    get path() {
      return root;
    },
    unique: (name) => join(root, `${name}-${++n}`),
  };
}
