#!/usr/bin/env bash
# Build the `flyte-fledge` wheel (the `fledge` binary packaged by maturin, `bindings = "bin"`) for
# this platform.
#
#   scripts/build-wheel.sh                  # -> target/wheels/flyte_fledge-<version>-py3-none-<platform>.whl
#   WHEEL=$(scripts/build-wheel.sh | tail -n1)
#   pip install "$WHEEL"                    # puts `fledge` on PATH; `python -m fledge` works too
#
# maturin (pinned below) is installed once into a venv under ${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev};
# the only network it needs is PyPI (maturin, wheel) and crates.io (crates not yet in cargo's cache).
# The build uses the workspace's cargo target dir (target/, or $CARGO_TARGET_DIR) and the release
# profile, so after `cargo build --release` nothing is recompiled: packaging takes about 2 seconds.
# The wheel's binary is the release binary as is (with line tables, for readable backtraces);
# FLEDGE_WHEEL_STRIP=1 strips the copy inside the wheel (`strip` from binutils; about a quarter of
# the size, for publishing), leaving target/release/fledge untouched.
#
# Environment: FLEDGE_PYTHON (interpreter for the maturin venv, default python3), FLEDGE_DEV_CACHE,
# CARGO_TARGET_DIR, FLEDGE_WHEEL_STRIP.
# Output: progress and maturin's output on stderr; the wheel's absolute path as the last stdout line.
# Exit codes: 0 ok, 3 setup error (no python, venv or pip failure), else maturin's (build failed).
set -euo pipefail

MATURIN_VERSION=1.16.0
WHEEL_VERSION=0.48.0   # `wheel unpack/pack`, for FLEDGE_WHEEL_STRIP=1
PINS=("maturin==$MATURIN_VERSION" "wheel==$WHEEL_VERSION")

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev}"
VENV="$CACHE/venv-maturin-${MATURIN_VERSION}"
MATURIN="$VENV/bin/maturin"
MARKER="$VENV/.fledge-pins"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET_DIR/wheels"
PY="${FLEDGE_PYTHON:-python3}"

log() { printf 'build-wheel: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 3; }

ready() { [[ -x "$MATURIN" && -f "$MARKER" && "$(cat "$MARKER")" == "${PINS[*]}" ]]; }

if ! ready; then
  mkdir -p "$CACHE"
  # Two shells building at once share one venv: install it once.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.venv-maturin-${MATURIN_VERSION}.lock"
    flock 9
  fi
  if ! ready; then
    command -v "$PY" >/dev/null 2>&1 || die "no '$PY' on PATH (set FLEDGE_PYTHON to a Python 3.8+ interpreter)"
    log "installing ${PINS[*]} into $VENV (once)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" >&2 || die "could not create a venv with $PY (Debian: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" >&2 \
      || die "pip could not install ${PINS[*]}"
    echo "${PINS[*]}" >"$MARKER"
  fi
fi

# Never maturin's --strip: it relinks target/release/fledge stripped while cargo keeps
# considering the release build fresh, so the workspace's binary would silently change.
args=(build --release --out "$OUT")

log "$("$MATURIN" --version) ${args[*]} (in python/)"
started=$SECONDS
mkdir -p "$OUT"
out_log="$(mktemp)"
trap 'rm -f "$out_log"' EXIT
rc=0
# maturin reads python/pyproject.toml ([tool.maturin] manifest-path = "../cli/Cargo.toml").
(cd "$ROOT/python" && CARGO_TARGET_DIR="$TARGET_DIR" "$MATURIN" "${args[@]}") 2>&1 | tee "$out_log" >&2 || rc=${PIPESTATUS[0]}
if (( rc != 0 )); then
  log "maturin failed (exit $rc)"
  exit "$rc"
fi

# maturin's last word is "Built wheel to PATH".
wheel="$(sed -n 's/.*Built wheel to //p' "$out_log" | tail -n1)"
if [[ -z "$wheel" || ! -f "$wheel" ]]; then
  log "maturin succeeded but printed no wheel path; see its output above"
  exit 3
fi
if [[ "${FLEDGE_WHEEL_STRIP:-0}" == 1 ]]; then
  # Strip the binary inside the wheel (a copy), leaving target/release/fledge as cargo built it.
  command -v strip >/dev/null 2>&1 || die "FLEDGE_WHEEL_STRIP=1 needs \`strip\` (binutils) on PATH"
  unpacked="$(mktemp -d)"
  trap 'rm -f "$out_log"; rm -rf "$unpacked"' EXIT
  "$VENV/bin/python" -m wheel unpack "$wheel" -d "$unpacked" >&2 || die "wheel unpack failed"
  bin="$(find "$unpacked" -path '*.data/scripts/fledge*' -type f | head -n1)"
  [[ -n "$bin" ]] || die "no .data/scripts/fledge in $wheel"
  strip "$bin" || die "strip $bin failed"
  rm -f "$wheel"
  "$VENV/bin/python" -m wheel pack "$unpacked"/*/ -d "$OUT" >&2 || die "wheel pack failed"
  [[ -f "$wheel" ]] || die "wheel pack did not write $wheel"
  log "stripped the binary in the wheel"
fi
log "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $((SECONDS - started))s"
echo "$wheel"
