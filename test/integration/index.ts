// Loaded by the extension host through extensionTestsPath (code-server launcher and
// @vscode/test-electron alike). Runs every *.test.js beside it; rejects on failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const grep = process.env.AIKM_TEST_GREP;
  if (grep) mocha.grep(grep);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, failures: failed = 0, pending = 0 } = runner.stats ?? {};
        // A plain closing line that CI tooling recognizes.
        console.log(`integration: ${passes} passed, ${failed} failed, ${pending} skipped`);
        if (passes + failed === 0) reject(new Error('No integration tests ran.'));
        else if (failures > 0) reject(new Error(`${failures} integration test(s) failed.`));
        else resolve();
      });
    } catch (err) {
      reject(err);
    }
  });
}
