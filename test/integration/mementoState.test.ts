// The Memento adapter in the real extension host: our latest write must read back, even while
// VS Code echoes older writes into globalState.
import * as assert from 'node:assert/strict';
import { MementoState } from '../../src/vscode/mementoState';
import { activateExtension } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MementoState over globalState', () => {
  const KEY = 'aikm.test.mementoStress';

  it('reads back its latest write through overlapping updates and late echoes', async () => {
    const { api } = await activateExtension();
    const state = new MementoState(api.globalState);
    const pending: Promise<void>[] = [];
    const wrong: string[] = [];
    for (let i = 0; i < 120; i++) {
      pending.push(state.update(KEY, { n: i, list: [i, i + 1] }));
      await sleep(i % 3 === 0 ? 0 : (i * 7) % 23);
      const got = state.get<{ n: number }>(KEY)?.n;
      if (got !== i) wrong.push(`after write ${i} read ${got}`);
    }
    await Promise.all(pending);
    for (let t = 0; t < 20; t++) {
      const got = state.get<{ n: number }>(KEY)?.n;
      if (got !== 119) wrong.push(`after all writes read ${got}`);
      await sleep(25);
    }
    assert.deepEqual(wrong, []);
    await state.update(KEY, undefined);
    assert.equal(state.get(KEY), undefined);
  });

  it('takes a value it never wrote (another window) as it is', async () => {
    const { api } = await activateExtension();
    const state = new MementoState(api.globalState);
    await state.update(KEY, { n: 1 });
    await api.globalState.update(KEY, { n: 'other window' });
    assert.deepEqual(state.get(KEY), { n: 'other window' });
    await api.globalState.update(KEY, undefined);
  });
});
