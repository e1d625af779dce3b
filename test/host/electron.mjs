#!/usr/bin/env node
// The same integration suite under @vscode/test-electron, for people with desktop VS Code and
// internet (it downloads VS Code). `npm run test:electron`. Version pinned in versions.sh.
import { runTests } from '@vscode/test-electron';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { REPO, versions } from './codeServer.mjs';

// Some tests need an open folder (the workspace leak scan), as under code-server.
const folder = mkdtempSync(join(tmpdir(), 'aikm-ws-'));
try {
  await runTests({
    version: process.env.VSCODE_TEST_VERSION || versions().VSCODE_VERSION,
    extensionDevelopmentPath: REPO,
    extensionTestsPath: join(REPO, 'out', 'test', 'integration', 'index.js'),
    launchArgs: [folder, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { AIKM_TEST_OUTPUT: join(REPO, 'test-results') },
  });
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (/ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|download/i.test(message)) {
    console.error(`Could not download desktop VS Code for @vscode/test-electron (${message}). It needs internet access; without it, 'npm test' runs the same suite in code-server.`);
    process.exitCode = 2;
  } else {
    console.error(`Integration tests failed under @vscode/test-electron: ${message}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
