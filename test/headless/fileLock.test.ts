import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { acquireFileLock, withFileLock } from '../../src/headless/fileLock';
import { tempRoot } from '../support/tmp';

const LOCK_MODULE = resolve(__dirname, '../../src/headless/fileLock.js');

/** Runs a script in a fresh node process; resolves with its stdout, rejects on a non-zero exit. */
function runNode(script: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-e', script, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

/** A pid that is certainly not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('file lock', () => {
  const tmp = tempRoot('aikm-lock-');
  const dir = () => {
    const d = tmp.unique('case');
    fs.mkdirSync(d);
    return d;
  };

  it('gives two processes turns: a read-modify-write counter loses no increment', async () => {
    const d = dir();
    const counter = join(d, 'counter.txt');
    fs.writeFileSync(counter, '0');
    // Each increment reads, yields to the event loop, then writes: without the lock, increments overlap and get lost.
    const script = `
      const fs = require('node:fs');
      const { withFileLock } = require(${JSON.stringify(LOCK_MODULE)});
      const [file, times] = process.argv.slice(-2);
      (async () => {
        for (let i = 0; i < Number(times); i++) {
          await withFileLock(file + '.lock', async () => {
            const v = Number(fs.readFileSync(file, 'utf8'));
            await new Promise((r) => setTimeout(r, 1));
            fs.writeFileSync(file, String(v + 1));
          });
        }
      })().catch((e) => { console.error(e); process.exit(1); });`;
    await Promise.all([runNode(script, [counter, '40']), runNode(script, [counter, '40']), runNode(script, [counter, '40'])]);
    assert.equal(fs.readFileSync(counter, 'utf8'), '120');
    assert.deepEqual(fs.readdirSync(d), ['counter.txt'], 'no lock file left behind');
  });

  it('takes over at once a lock whose process is gone', async () => {
    const lock = join(dir(), 'state.json.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: await deadPid(), host: os.hostname(), nonce: 'dead', at: new Date().toISOString() }));
    const started = Date.now();
    const value = await withFileLock(lock, async () => JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number }, { timeoutMs: 5000, staleMs: 60_000 });
    assert.equal(value.pid, process.pid, 'the lock is ours while fn runs');
    assert.ok(Date.now() - started < 2000);
    assert.equal(fs.existsSync(lock), false, 'released afterwards');
  });

  it('waits for a live holder, and takes over a lock older than staleMs even if its holder seems alive', async () => {
    const lock = join(dir(), 'ledger.json.lock');
    const release = await acquireFileLock(lock);
    let entered = false;
    const waiting = withFileLock(lock, async () => (entered = true), { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(entered, false, 'still waiting while the lock is held');
    release();
    await waiting;
    assert.equal(entered, true);

    // Held by a live process (this one) but abandoned long ago.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: 'old', at: '2020-01-01T00:00:00Z' }));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    assert.equal(await withFileLock(lock, async () => 'ran', { timeoutMs: 3000, staleMs: 10_000 }), 'ran');
  });

  it('times out with a message naming the lock, its holder and what to do', async () => {
    const lock = join(dir(), 'vault.json.lock');
    const release = await acquireFileLock(lock);
    try {
      await assert.rejects(withFileLock(lock, async () => undefined, { timeoutMs: 150, staleMs: 60_000 }), (err: Error) => {
        assert.ok(err.message.includes(lock));
        assert.match(err.message, new RegExp(`held by process ${process.pid} on `));
        assert.match(err.message, /If no such process is running, delete that file/);
        return true;
      });
    } finally {
      release();
    }
  });

  it('a released lock that was taken over is not removed from its new owner', async () => {
    const lock = join(dir(), 'config.json.lock');
    const release = await acquireFileLock(lock);
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: 'someone-else', at: new Date().toISOString() }));
    release();
    assert.equal(fs.existsSync(lock), true);
  });

  it('says why when the lock cannot be created', async () => {
    await assert.rejects(withFileLock(join(tmp.path, 'no-such-dir', 'x.lock'), async () => undefined), /Cannot create the lock file .*Check that its folder exists and is writable/);
  });
});
