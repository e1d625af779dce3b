// Where a host keeps the last good price data file: one file, replaced atomically (both hosts).
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { PriceDataStore } from '../core/priceRefresh';
import { writeFileAtomic } from './atomicFile';

/** `file` as a PriceDataStore: undefined while it does not exist; written atomically (its folder made when missing). */
export function filePriceDataStore(file: string, mode?: number): PriceDataStore {
  return {
    read: () => fs.promises.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))),
    write: async (text) => {
      await fs.promises.mkdir(dirname(file), { recursive: true });
      await writeFileAtomic(file, text, mode);
    },
  };
}
