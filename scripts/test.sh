#!/usr/bin/env bash
# The single test command of fledge: everything CI runs, in order, stopping at the first failure.
#
#   scripts/test.sh
#
# Needs only the Rust toolchain and Python 3.11 (or 3.12) with venv support (Debian 12:
# python3 python3-venv); the first run creates the pinned flytekit venv (about a minute, once) and
# downloads crates. Stages:
#   1. python         scripts/setup-python.sh: the flytekit 1.16.31 venv (ground truth)
#   2. build          cargo build --release --workspace (the fledge binary the e2e stage runs)
#   3. unit tests     cargo nextest run --workspace --release if cargo-nextest is installed (plus doc
#                     tests), else cargo test --workspace --release (one profile: the build is reused)
#   4. ground truth   tests/ground_truth/check.py: examples/rules + examples/shop vs real flytekit
#   5. fixtures       tests/ground_truth/check_fixtures.py: rule fixtures' `# flyte:` headers vs flytekit
#   6. examples       target/release/fledge check examples/shop is clean (exit 0, no diagnostics);
#                     tests/e2e/examples_match_markers.py: fledge reports exactly the `# expect:`
#                     markers of examples/rules (and none in examples/shop)
#   7. planted        tests/e2e/planted_errors.py: generated projects (../shared/bench/gen_project.py)
#                     with planted errors are all found, clean ones get no diagnostic
#   8. wheel          tests/e2e/wheel.sh: the flyte-fledge wheel installs and works, pre-commit hook
#   9. nvim           tests/e2e/nvim/run.sh: the language server in headless Neovim
#  10. vscode         tests/e2e/vscode/run.sh: the extension (.vsix, fledge bundled) in code-server
# Each stage prints a header and its time; at the end a per-stage timing table and the line
# `N passed, M failed` (stages). Exit status: 0 when every stage passed, else that of the failed stage
# (at least 1).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
FLEDGE="$TARGET_DIR/release/fledge"
VENV_PY=""

declare -a NAMES=() TIMES=() RESULTS=()
STAGES=(python build unit_tests ground_truth fixtures examples planted wheel nvim vscode)
declare -A TITLE=(
  [python]="python: flytekit venv (scripts/setup-python.sh)"
  [build]="build: cargo build --release --workspace"
  [unit_tests]="unit tests (cargo, release profile)"
  [ground_truth]="ground truth: examples vs flytekit (tests/ground_truth/check.py)"
  [fixtures]="ground truth: rule fixtures vs flytekit (tests/ground_truth/check_fixtures.py)"
  [examples]="examples: fledge check vs # expect: markers (tests/e2e/examples_match_markers.py)"
  [planted]="generated projects: planted errors found, clean ones clean (tests/e2e/planted_errors.py)"
  [wheel]="wheel: build, install in a fresh venv, pre-commit hook (tests/e2e/wheel.sh)"
  [nvim]="language server in headless Neovim (tests/e2e/nvim/run.sh)"
  [vscode]="VS Code extension in code-server (tests/e2e/vscode/run.sh)"
)

stage_python() {
  local out
  out="$(scripts/setup-python.sh)" || return $?
  VENV_PY="$(printf '%s\n' "$out" | tail -n1)"
  if [[ -z "$VENV_PY" || ! -x "$VENV_PY" ]]; then
    echo "scripts/setup-python.sh printed no usable python (got '${VENV_PY}')" >&2
    return 3
  fi
  "$VENV_PY" -c 'import flytekit, sys; print(f"venv python: {sys.executable} (Python {sys.version.split()[0]}, flytekit {flytekit.__version__})")'
  # The worker, run and register tests run user code with this interpreter.
  export FLEDGE_TEST_PYTHON="$VENV_PY"
}

# Runs cargo with its output folded: a linker failure prints a command line of hundreds of kilobytes
# before the one line that says why (e.g. "No space left on device"), and CI logs keep only the tail.
cargo_folded() {
  cargo "$@" 2>&1 | python3 -u -c '
import sys
for line in iter(sys.stdin.readline, ""):
    if len(line) > 2000:
        line = f"{line[:600]} [... {len(line) - 1200} characters cut ...] {line[-600:]}"
    sys.stdout.write(line)
'
  return "${PIPESTATUS[0]}"
}

stage_build() {
  cargo_folded build --release --workspace
}

stage_unit_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    echo "using cargo nextest ($(cargo nextest --version 2>/dev/null | head -n1)); doc tests with cargo test --doc"
    cargo_folded nextest run --workspace --release --no-fail-fast || return $?
    cargo_folded test --workspace --release --doc
  else
    echo "cargo-nextest not installed: using cargo test"
    cargo_folded test --workspace --release --no-fail-fast
  fi
}

stage_ground_truth() {
  "$VENV_PY" tests/ground_truth/check.py --python "$VENV_PY"
}

stage_fixtures() {
  "$VENV_PY" tests/ground_truth/check_fixtures.py
}

stage_examples() {
  local py=python3
  command -v python3 >/dev/null 2>&1 || py="$VENV_PY"
  if [[ ! -x "$FLEDGE" ]]; then
    echo "no fledge binary at $FLEDGE (the build stage should have made it)" >&2
    return 2
  fi
  echo "\$ $FLEDGE check examples/shop"
  local rc=0
  "$FLEDGE" check examples/shop || rc=$?
  if (( rc != 0 )); then
    echo "fledge check examples/shop exited $rc: the example shop must be clean" >&2
    return "$rc"
  fi
  echo "\$ $py tests/e2e/examples_match_markers.py --fledge $FLEDGE"
  "$py" tests/e2e/examples_match_markers.py --fledge "$FLEDGE"
}

stage_planted() {
  local py=python3
  command -v python3 >/dev/null 2>&1 || py="$VENV_PY"
  local gen="$ROOT/../shared/bench/gen_project.py"
  if [[ ! -f "$gen" ]]; then
    echo "missing $gen (shared/ must sit beside the checkout)" >&2
    return 3
  fi
  "$py" tests/e2e/planted_errors.py "$FLEDGE" "$gen"
}

stage_wheel() {
  tests/e2e/wheel.sh
}

stage_nvim() {
  FLEDGE_BIN="$FLEDGE" tests/e2e/nvim/run.sh
}

stage_vscode() {
  FLEDGE_BIN="$FLEDGE" tests/e2e/vscode/run.sh
}

fmt_secs() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

summary() {
  local passed=0 failed=0 i
  echo
  echo "==> summary"
  for i in "${!NAMES[@]}"; do
    printf '    %-6s %6s  %s\n' "${RESULTS[$i]}" "$(fmt_secs "${TIMES[$i]}")" "${NAMES[$i]}"
    if [[ "${RESULTS[$i]}" == PASS ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  local not_run=$(( ${#STAGES[@]} - ${#NAMES[@]} ))
  (( not_run > 0 )) && echo "    ($not_run stage(s) not run after the failure)"
  echo "    total $(fmt_secs $((SECONDS - START)))"
  echo "$passed passed, $failed failed"
}

START=$SECONDS
n=0
for s in "${STAGES[@]}"; do
  n=$((n + 1))
  echo
  echo "==> [$n/${#STAGES[@]}] ${TITLE[$s]}"
  t0=$SECONDS
  rc=0
  "stage_$s" || rc=$?
  dt=$((SECONDS - t0))
  NAMES+=("$s")
  TIMES+=("$dt")
  if (( rc != 0 )); then
    RESULTS+=(FAIL)
    echo
    echo "FAILED: stage '$s' (${TITLE[$s]}) exited with status $rc after $(fmt_secs "$dt"); stopping here." >&2
    echo "disk and memory at the failure:" >&2
    df -h "$ROOT" "$TARGET_DIR" "${TMPDIR:-/tmp}" 2>/dev/null | sort -u >&2
    free -m 2>/dev/null >&2
    summary
    exit "$rc"
  fi
  RESULTS+=(PASS)
  echo "--- stage '$s' passed in $(fmt_secs "$dt")"
done
summary
exit 0
