// Benchmark, not a test: our lock file (src/headless/fileLock.ts) in real processes. How long the next
// process waits for a lock whose holder was killed with kill -9, and lock + read-modify-write + unlock
// rounds per second, alone and with 4 processes taking turns. Prints figures.
// With proper-lockfile installed (`npm i --no-save proper-lockfile@4.1.2`, or PROPER_LOCKFILE=<its folder>),
// it measures that too, with the same stale time (10 s) and retry pacing as ours.
// Run: node esbuild.mjs --tests && node out/test/bench/lock.bench.js
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const OURS = resolve(__dirname, '../../src/headless/fileLock.js');

/** Child-side code defining `acquire(lockPath, timeoutMs)`, which resolves to an async release. */
const IMPLEMENTATIONS: Record<string, string> = {
  ours: `
    const { acquireFileLock } = require(${JSON.stringify(OURS)});
    const acquire = async (p, timeoutMs) => { const release = await acquireFileLock(p, { timeoutMs }); return async () => release(); };`,
};
const properLockfile = process.env.PROPER_LOCKFILE ?? tryResolve('proper-lockfile');
if (properLockfile) {
  IMPLEMENTATIONS['proper-lockfile'] = `
    const pl = require(${JSON.stringify(properLockfile)});
    const acquire = (p, timeoutMs) => pl.lock(p.replace(/\\.lock$/, ''), {
      lockfilePath: p, realpath: false, stale: 10000, onCompromised: () => {},
      retries: { retries: 10, forever: true, factor: 2, minTimeout: 2, maxTimeout: 50, randomize: true, maxRetryTime: timeoutMs },
    });`;
}

function tryResolve(name: string): string | undefined {
  try {
    return createRequire(join(process.cwd(), 'package.json')).resolve(name);
  } catch {
    return undefined;
  }
}

// hold: take the lock, say so, wait to be killed. take: time to get it. loop: `times` rounds of
// lock, counter + 1, unlock, starting at `startAt`; prints when it finished.
const MODES = `
  const fs = require('node:fs');
  const [mode, lock, a, b] = process.argv.slice(-4);
  (async () => {
    if (mode === 'hold') {
      await acquire(lock, 15000);
      process.stdout.write('held\\n');
      setInterval(() => undefined, 1000);
    } else if (mode === 'take') {
      const t0 = performance.now();
      const release = await acquire(lock, 60000);
      process.stdout.write(String(performance.now() - t0));
      await release();
    } else {
      const [times, startAt] = [Number(a), Number(b)];
      const counter = lock.replace(/\\.lock$/, '');
      while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 1));
      for (let i = 0; i < times; i++) {
        const release = await acquire(lock, 60000);
        fs.writeFileSync(counter, String(Number(fs.readFileSync(counter, 'utf8')) + 1));
        await release();
      }
      process.stdout.write(String(Date.now()));
    }
  })().catch((e) => { console.error(e); process.exit(1); });`;

interface Child {
  out: Promise<string>;
  firstLine: Promise<void>;
  kill(): Promise<void>;
}

function run(impl: string, args: string[]): Child {
  const child = spawn(process.execPath, ['-e', IMPLEMENTATIONS[impl] + MODES, '--', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let seeLine: () => void = () => undefined;
  const firstLine = new Promise<void>((r) => (seeLine = r));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('\n')) seeLine();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  const output = exited.then((code) => (code === 0 ? out : Promise.reject(new Error(`${impl} ${args[0]} exited ${code}`))));
  output.catch(() => undefined); // a holder is killed on purpose; who awaits `out` still sees the failure
  return {
    out: output,
    firstLine,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function takeoverAfterKill(impl: string, dir: string, rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const lock = join(dir, `takeover-${impl}-${i}.json.lock`);
    const holder = run(impl, ['hold', lock, '', '']);
    await holder.firstLine;
    await holder.kill();
    times.push(Number(await run(impl, ['take', lock, '', '']).out));
  }
  return times;
}

async function rounds(impl: string, dir: string, processes: number, times: number): Promise<{ ms: number; counter: number }> {
  const lock = join(dir, `rounds-${impl}-${processes}.json.lock`);
  const counter = lock.replace(/\.lock$/, '');
  writeFileSync(counter, '0');
  const startAt = Date.now() + 1000; // after every process has started
  const ends = await Promise.all(Array.from({ length: processes }, () => run(impl, ['loop', lock, String(times), String(startAt)]).out));
  return { ms: Math.max(...ends.map(Number)) - startAt, counter: Number(readFileSync(counter, 'utf8')) };
}

(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aikm-lock-bench-'));
  try {
    for (const impl of Object.keys(IMPLEMENTATIONS)) {
      const t = await takeoverAfterKill(impl, dir, 5);
      console.log(`${impl}: lock whose holder was killed with kill -9 taken by the next process after ${t.map((ms) => ms.toFixed(0)).join(', ')} ms`);
      const one = await rounds(impl, dir, 1, 2000);
      console.log(`${impl}: 1 process, ${one.counter} rounds of lock + counter + 1 + unlock in ${one.ms} ms = ${Math.round((one.counter / one.ms) * 1000)}/s`);
      const four = await rounds(impl, dir, 4, 250);
      console.log(`${impl}: 4 processes × 250 rounds in ${four.ms} ms = ${Math.round((four.counter / four.ms) * 1000)}/s; counter ${four.counter} (expected 1000)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
