#!/usr/bin/env bash
# Runs the Python (authlib) conformance tests against a behalf binary.
#
#   conformance/python/run.sh [pytest args...]
#
# BEHALF_BIN selects the binary (default: ../../target/debug/behalf relative
# to this script; a relative BEHALF_BIN is taken from the caller's directory).
# PYTHON selects the interpreter used to create the venv (default: python3).
# The venv lives in .venv next to this script and is rebuilt from
# requirements.txt whenever that file is newer than the venv's marker.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bin="${BEHALF_BIN:-$here/../../target/debug/behalf}"
case "$bin" in
  /*) ;;
  *) bin="$PWD/$bin" ;;
esac
if [ ! -x "$bin" ]; then
  echo "run.sh: behalf binary not found or not executable: $bin (build it with 'cargo build' or set BEHALF_BIN)" >&2
  exit 1
fi
export BEHALF_BIN="$bin"

python="${PYTHON:-python3}"
venv="$here/.venv"
marker="$venv/.requirements-installed"
requirements="$here/requirements.txt"

if [ ! -x "$venv/bin/python" ] || [ ! -f "$marker" ] || [ "$requirements" -nt "$marker" ]; then
  echo "run.sh: creating $venv from requirements.txt" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements"
  touch "$marker"
fi

cd "$here"
exec "$venv/bin/python" -m pytest -q "$@"
