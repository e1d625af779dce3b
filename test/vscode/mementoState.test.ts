// MementoState against a memento that echoes old values late, as VS Code's globalState does: our
// latest write must win over any echo, and a value we never wrote (another window) is taken.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { MementoState } from '../../src/vscode/mementoState';

/** A memento whose stored value the test can set behind the adapter's back (an echo, another window). */
class EchoingMemento {
  readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Thenable<void> {
    // A JSON copy, as VS Code keeps.
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.parse(JSON.stringify(value)));
    return Promise.resolve();
  }
  echo(key: string, value: unknown): void {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

const asMemento = (m: EchoingMemento) => m as unknown as vscode.Memento;

describe('MementoState', () => {
  it('a late echo of the value before its first write does not hide the writes (seen in code-server)', async () => {
    const m = new EchoingMemento();
    const s = new MementoState(asMemento(m));
    await s.update('k', { n: 0 });
    await s.update('k', { n: 1 });
    m.echo('k', undefined); // the state from before write 0 comes back
    assert.deepEqual(s.get('k'), { n: 1 });
    await s.update('k', { n: 2 });
    m.echo('k', { n: 0 }); // and then an echo of write 0
    assert.deepEqual(s.get('k'), { n: 2 });
  });

  it('takes another window’s value, and echoes of its own older writes never win over it', async () => {
    const m = new EchoingMemento();
    const s = new MementoState(asMemento(m));
    await s.update('k', { n: 1 });
    await s.update('k', { n: 2 });
    m.echo('k', { n: 'other window' });
    assert.deepEqual(s.get('k'), { n: 'other window' });
    m.echo('k', { n: 1 }); // a late echo of our write 1
    assert.deepEqual(s.get('k'), { n: 'other window' });
    await s.update('k', { n: 3 });
    assert.deepEqual(s.get('k'), { n: 3 });
  });
});
