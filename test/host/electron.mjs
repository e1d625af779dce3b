#!/usr/bin/env node
// The same integration suite under @vscode/test-electron, for people with desktop VS Code and
// internet (it downloads VS Code). `npm run test:electron`. Version pinned in versions.sh.
import { runTests } from '@vscode/test-electron';
import { join } from 'node:path';
import { REPO, versions } from './codeServer.mjs';

try {
  await runTests({
    version: process.env.VSCODE_TEST_VERSION || versions().VSCODE_VERSION,
    extensionDevelopmentPath: REPO,
    extensionTestsPath: join(REPO, 'out', 'test', 'integration', 'index.js'),
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { AIKM_TEST_OUTPUT: join(REPO, 'test-results') },
  });
} catch (err) {
  console.error(`Integration tests failed under @vscode/test-electron: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
