# The one place the test host's versions are pinned. Sourced by install.sh; read by run.mjs.
CODE_SERVER_VERSION=4.139.1   # = VS Code 1.139.1
NODE_VERSION=24.21.0          # code-server >= 4.133 needs Node 24
VSCODE_VERSION=1.139.1        # what code-server bundles; also used by the @vscode/test-electron launcher
