# Shared by scripts/test.sh and scripts/demo.sh: installs what the tests and the demo need into
# ignored folders of the repository (.venv/ and node_modules/), and reuses them on the next run.
# Source it; do not run it.

# Prints a step banner.
step() { printf '\n==> %s\n' "$*"; }

# Fails with a clear message when a prerequisite program is missing.
require() {
  local program=$1 why=$2
  if ! command -v "$program" >/dev/null 2>&1; then
    echo "error: '$program' is not installed, but rpcgen needs it $why." >&2
    exit 1
  fi
}

# Creates .venv/ with the packages of tests/requirements.txt; reinstalls when that file changes.
ensure_python_env() {
  require python3 "for the Python runtime, the Python clients and the zerorpc-python interop peer"
  local stamp=.venv/.requirements-installed
  if [ ! -x .venv/bin/python ]; then
    step "creating the Python venv in .venv/"
    python3 -m venv .venv
  fi
  if [ ! -f "$stamp" ] || ! cmp -s tests/requirements.txt "$stamp"; then
    step "installing Python packages into .venv/"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
    cp tests/requirements.txt "$stamp"
  fi
  export RPCGEN_PYTHON="$PWD/.venv/bin/python"
}

# Installs node_modules/ from package-lock.json; reinstalls when the lock file changes.
ensure_node_modules() {
  require node "for the TypeScript runtime and clients"
  require npm "to install the TypeScript runtime's packages"
  local stamp=node_modules/.package-lock-installed
  if [ ! -d node_modules ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    step "installing npm packages into node_modules/"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
}
