// Installs npm dependencies when node_modules is missing or older than package-lock.json.
import { existsSync, statSync } from 'node:fs';
import { execSync } from 'node:child_process';

export function ensureDeps() {
  const marker = 'node_modules/.package-lock.json';
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync('package-lock.json').mtimeMs) return;
  process.stdout.write('▶ installing npm dependencies (npm ci)\n');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
