#!/usr/bin/env bash
# Create (once) the Python venv with the pinned flytekit stack that fledge's
# ground-truth checks and examples run against.
#
#   scripts/setup-python.sh            # prints the venv's python path as the last stdout line
#   VENV_PY=$(scripts/setup-python.sh | tail -n1)
#
# Location: ${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev}/venv-flytekit-1.16.31
# Interpreter: $FLEDGE_PYTHON if set, else the first of python3.11, python3.12, python3
#   whose version is 3.11 or 3.12 (pandas 3.1 / pyarrow 26 need >= 3.11, flytekit 1.16 needs < 3.13).
# Idempotent: a marker file inside the venv records the pinned set and the interpreter
# version; when it matches, the script does nothing else (well under a second).
# Progress and pip output go to stderr / a log file, so stdout is only the python path.
# Exit codes: 0 ok, 3 setup error (no suitable python, venv or pip failure).
set -euo pipefail

FLYTEKIT_VERSION=1.16.31
PINS=(
  "flytekit==${FLYTEKIT_VERSION}"
  "pandas==3.1.1"
  "pyarrow==26.0.1"
  "pydantic==2.14.4"
)

CACHE="${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev}"
VENV="$CACHE/venv-flytekit-${FLYTEKIT_VERSION}"
MARKER="$VENV/.fledge-pins"
LOG="$CACHE/pip-venv-flytekit-${FLYTEKIT_VERSION}.log"
WANT="pins: ${PINS[*]}"

log() { printf 'setup-python: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 3; }

# Fast path: marker present and identical, interpreter still runnable.
if [[ -f "$MARKER" && -x "$VENV/bin/python" ]] && [[ "$(head -n1 "$MARKER")" == "$WANT" ]]; then
  echo "$VENV/bin/python"
  exit 0
fi

mkdir -p "$CACHE"

# Serialize concurrent installs (two CI steps, two shells) on the same cache.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.venv-flytekit-${FLYTEKIT_VERSION}.lock"
  flock 9
  # Someone else may have finished while we waited.
  if [[ -f "$MARKER" && -x "$VENV/bin/python" ]] && [[ "$(head -n1 "$MARKER")" == "$WANT" ]]; then
    echo "$VENV/bin/python"
    exit 0
  fi
fi

pick_python() {
  local cands=()
  if [[ -n "${FLEDGE_PYTHON:-}" ]]; then cands=("$FLEDGE_PYTHON"); else cands=(python3.11 python3.12 python3); fi
  local c v
  for c in "${cands[@]}"; do
    command -v "$c" >/dev/null 2>&1 || continue
    v="$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || continue
    case "$v" in 3.11|3.12) command -v "$c"; return 0 ;; esac
    log "skipping $c (Python $v; need 3.11 or 3.12)"
  done
  return 1
}

PY="$(pick_python)" || die "no Python 3.11/3.12 found (tried ${FLEDGE_PYTHON:-python3.11 python3.12 python3}); on Debian 12: apt-get install python3 python3-venv"
PYVER="$("$PY" -c 'import sys; print(sys.version.split()[0])')"

# Anything at $VENV without a matching marker is a stale or half-finished install.
if [[ -e "$VENV" ]]; then
  log "removing incomplete or outdated venv at $VENV"
  rm -rf "$VENV"
fi

log "creating venv with $PY (Python $PYVER) at $VENV"
# A venv's scripts hard-code its path, so it is built in place; the marker, written
# last, is what says it is complete.
trap 'rm -rf "$VENV"' EXIT   # never leave a half-installed venv behind
if ! "$PY" -m venv "$VENV" >>"$LOG" 2>&1; then
  die "'$PY -m venv' failed (see $LOG); on Debian 12: apt-get install python3-venv"
fi

log "installing ${PINS[*]} (log: $LOG)"
start=$SECONDS
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "${PINS[@]}" >>"$LOG" 2>&1; then
  tail -n 20 "$LOG" >&2 || true
  die "pip install failed (see $LOG)"
fi
"$VENV/bin/python" - <<'PY' >>"$LOG" 2>&1 || die "installed packages do not import (see $LOG)"
import flytekit, pandas, pyarrow, pydantic
from flytekit.tools.translator import get_serializable  # noqa: F401
print("ok", flytekit.__version__, pandas.__version__, pyarrow.__version__, pydantic.VERSION)
PY
"$VENV/bin/python" -m pip freeze --disable-pip-version-check >"$VENV/fledge-freeze.txt" 2>>"$LOG" || true
{
  echo "$WANT"
  echo "python: $PYVER ($PY)"
  echo "installed: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start)) s"
} >"$MARKER"
trap - EXIT
log "done in $((SECONDS - start)) s"
echo "$VENV/bin/python"
