#!/usr/bin/env bash
# fledge check benchmark: speed against its peers, peak memory, and quality on
# generated flytekit projects. One run does everything:
#
#   bench/check-bench.sh                  # RUNS=5, sizes 50 200 500
#   RUNS=3 SKIP_PYRIGHT=1 bench/check-bench.sh
#
# 1. builds fledge (`cargo build --release`) and copies target/release/fledge into
#    the work dir, so concurrent builds by others cannot swap the binary mid-run;
# 2. generates projects of 50, 200 and 500 modules with shared/bench/gen_project.py
#    (seed 1, no planted errors) into a fresh temp dir under
#    ${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev}/bench;
# 3. times, interleaved, RUNS times each, in the project folder:
#      fledge    `fledge check --format json benchproj` (fledge keeps no cache: every run is cold)
#      flytekit  `$FLYTE_PY shared/bench/validate_project.py --quiet .`
#                (PYTHONDONTWRITEBYTECODE=1, project __pycache__ removed before every run)
#      pyright   `pyright --pythonpath $FLYTE_PY benchproj` (npm pyright@1.1.414, installed
#                into $CACHE/bench/pyright when missing); SKIP_PYRIGHT=1 skips it
#    The project's __pycache__ folders are removed before every run of every tool, as in
#    shared/bench/peer_timings.sh; the OS file cache is warm for all tools alike.
# 4. measures fledge's peak RSS (and its user+sys CPU time, a load-independent companion
#    to wall time on a shared machine) in separate, untimed runs, one per size per round,
#    with GNU time (`/usr/bin/time -f '%M %U %S'`, installed with apt-get when missing), or,
#    failing that, with a python3 wrapper reading getrusage(RUSAGE_CHILDREN) (ru_maxrss,
#    ru_utime + ru_stime); the report says which one was used;
# 5. prints a markdown table (min / median wall seconds, peer/fledge ratios on median and
#    on min, fledge peak MB) and PASS/MISS for the targets: 500 modules < 0.5 s,
#    >= 50x faster than flytekit, >= 20x faster than pyright, peak RSS < 200 MB;
# 6. quality: generates --modules 50 --seed 1 --inject-errors 20, compares fledge's JSON
#    diagnostics with _expected.json (recall per kind; false positives), and lists every
#    diagnostic fledge reports on the clean 50/200/500-module projects (all are false
#    positives).
#
# It is a bench, not a test: it exits 0 even when targets are missed or quality is short;
# non-zero only when something crashed (build failure, generator failure, fledge exiting
# with a status other than 0/1, or its JSON being unreadable).
#
# Environment:
#   RUNS=5             runs per tool and size (min and median reported)
#   SIZES="50 200 500" project sizes
#   SKIP_PYRIGHT=1     do not time pyright
#   FLYTE_PY=...       python with the pinned flytekit (default: scripts/setup-python.sh)
#   FLEDGE_DEV_CACHE   cache root (default ~/.cache/fledge-dev); pyright and work dirs go to $CACHE/bench
#   KEEP=1             keep the work dir (projects, logs, raw times) instead of deleting it
#   OUT=path.md        also write the report there
# Needs: bash 5 (EPOCHREALTIME), cargo, python3, node + npm (unless SKIP_PYRIGHT=1).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/pyright.sh
. "$HERE/pyright.sh"
REPO="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd || true)}"
CACHE="${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev}"
RUNS="${RUNS:-5}"
read -r -a SIZES <<< "${SIZES:-50 200 500}"
SKIP_PYRIGHT="${SKIP_PYRIGHT:-0}"
[ "$SKIP_PYRIGHT" = "0" ] && SKIP_PYRIGHT=""

log() { printf 'check-bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

[ -f "$SHARED_BENCH/gen_project.py" ] || die "shared/bench/gen_project.py not found (set SHARED_BENCH)"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

mkdir -p "$CACHE/bench"
WORK="$(mktemp -d "$CACHE/bench/run.XXXXXX")"
if [ "${KEEP:-0}" = "1" ]; then
  log "work dir (kept): $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi

# ---- (a) build -----------------------------------------------------------------------
log "building fledge (cargo build --release)"
(cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
cp "$REPO/target/release/fledge" "$WORK/fledge"
FLEDGE="$WORK/fledge"
FLEDGE_REV="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
FLEDGE_DIRTY="$(cd "$REPO" && git status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ')"

# ---- peers -------------------------------------------------------------------------------
if [ -z "${FLYTE_PY:-}" ]; then
  log "setting up the pinned flytekit venv (scripts/setup-python.sh)"
  FLYTE_PY="$("$REPO/scripts/setup-python.sh" | tail -n1)"
fi
[ -x "$FLYTE_PY" ] || die "FLYTE_PY=$FLYTE_PY is not executable"

PYRIGHT=""
if [ -z "$SKIP_PYRIGHT" ]; then
  ensure_pyright "$CACHE/bench/pyright"
fi

# ---- peak RSS method ---------------------------------------------------------------------
RSS_METHOD=""
gnu_time_ok() { [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; }
if ! gnu_time_ok && command -v apt-get >/dev/null 2>&1; then
  log "GNU time missing; trying apt-get install time"
  SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  { $SUDO apt-get install -y -qq time >/dev/null 2>&1 || \
    { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq time >/dev/null 2>&1; }; } || true
fi
if gnu_time_ok; then
  RSS_METHOD="GNU time (/usr/bin/time -f '%M %U %S')"
else
  RSS_METHOD="python3 wrapper (getrusage(RUSAGE_CHILDREN).ru_maxrss)"
fi
# peak_rss_kib OUTFILE CMD...  -> writes "peak-KiB<TAB>user+sys-CPU-seconds" of CMD to OUTFILE;
# returns CMD's status
peak_rss_kib() {
  local out=$1; shift
  if [[ "$RSS_METHOD" == GNU* ]]; then
    local rc=0
    /usr/bin/time -f '%M %U %S' -o "$out.raw" "$@" > /dev/null 2>&1 || rc=$?
    # GNU time prefixes "Command exited with non-zero status N" when CMD fails
    tail -n1 "$out.raw" | awk '{ printf "%s\t%.2f\n", $1, $2 + $3 }' > "$out"
    return $rc
  else
    python3 - "$out" "$@" <<'PY'
import resource, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
rc = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(out, "w").write("%d\t%.2f\n" % (ru.ru_maxrss, ru.ru_utime + ru.ru_stime))
sys.exit(rc)
PY
  fi
}

export PYTHONDONTWRITEBYTECODE=1 FLYTE_SDK_LOGGING_LEVEL=40

# ---- (b) generate -------------------------------------------------------------------------
for n in "${SIZES[@]}"; do
  log "generating $n-module project"
  python3 "$SHARED_BENCH/gen_project.py" --modules "$n" --seed 1 --out "$WORK/p$n" > /dev/null \
    || die "gen_project.py --modules $n failed"
done

# ---- (c, d) measure, interleaved ------------------------------------------------------------
TIMES="$WORK/times.tsv"; : > "$TIMES"
RSS="$WORK/rss.tsv"; : > "$RSS"
CRASHED=0
clean_pycache() { find "$1" -name __pycache__ -type d -prune -exec rm -rf {} + ; }

# measure SIZE TOOL DIR CMD...   (one timed run; appends "size tool seconds rc" to $TIMES)
measure() {
  local size=$1 tool=$2 dir=$3; shift 3
  clean_pycache "$dir"
  local t0 t1 rc=0
  t0=$EPOCHREALTIME
  (cd "$dir" && "$@" > "$WORK/last_${tool}_${size}.log" 2>&1) || rc=$?
  t1=$EPOCHREALTIME
  awk -v s="$size" -v t="$tool" -v a="$t0" -v b="$t1" -v rc="$rc" \
    'BEGIN { printf "%s\t%s\t%.4f\t%s\n", s, t, b - a, rc }' >> "$TIMES"
  if [ "$tool" = fledge ] && [ "$rc" -gt 1 ]; then
    log "fledge exited $rc on the $size-module project (see $WORK/last_fledge_${size}.log)"
    CRASHED=1
  fi
}

for run in $(seq 1 "$RUNS"); do
  for n in "${SIZES[@]}"; do
    d="$WORK/p$n"
    log "round $run/$RUNS, $n modules"
    measure "$n" fledge "$d" "$FLEDGE" check --format json benchproj
    measure "$n" flytekit "$d" "$FLYTE_PY" "$SHARED_BENCH/validate_project.py" --quiet .
    if [ -n "$PYRIGHT" ]; then
      measure "$n" pyright "$d" "$PYRIGHT" --pythonpath "$FLYTE_PY" benchproj
    fi
    # peak RSS: a separate, untimed run so the wrapper does not touch the timings
    rc=0
    (cd "$d" && peak_rss_kib "$WORK/rss_one" "$FLEDGE" check --format json benchproj) || rc=$?
    if [ "$rc" -le 1 ] && [ -s "$WORK/rss_one" ]; then
      printf '%s\t%s\n' "$n" "$(head -n1 "$WORK/rss_one")" >> "$RSS"
    else
      log "peak-RSS run of fledge failed (status $rc) on $n modules"
      if [ "$rc" -gt 1 ]; then CRASHED=1; fi
    fi
  done
done

# ---- (e) report ------------------------------------------------------------------------------
REPORT="$WORK/report.md"
{
  echo "## fledge check benchmark"
  echo
  echo "- fledge: $FLEDGE_REV ($FLEDGE_DIRTY modified tracked files), release build; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- flytekit: $("$FLYTE_PY" -c 'import flytekit; print(flytekit.__version__)' 2>/dev/null || echo '?') ($FLYTE_PY)"
  if [ -n "$PYRIGHT" ]; then echo "- pyright: $("$PYRIGHT" --version 2>/dev/null), node $(node --version)"; else echo "- pyright: skipped (SKIP_PYRIGHT)"; fi
  echo "- runs: $RUNS per tool and size, interleaved; peak RSS via $RSS_METHOD"
  for n in "${SIZES[@]}"; do
    lines=$(cat "$WORK/p$n"/benchproj/*.py | wc -l | tr -d ' ')
    echo "- $n modules: $(ls "$WORK/p$n"/benchproj/*.py | wc -l | tr -d ' ') files, $lines lines;" \
         "flytekit: $(tail -n1 "$WORK/last_flytekit_$n.log" 2>/dev/null)"
    if [ -n "$PYRIGHT" ]; then
      echo "  pyright: $(grep -Eo '[0-9]+ errors?, [0-9]+ warnings?' "$WORK/last_pyright_$n.log" | tail -n1)"
    fi
  done
  echo
  python3 "$HERE/bench_report.py" table "$TIMES" "$RSS"
} | tee "$REPORT"

# ---- quality ------------------------------------------------------------------------------------
Q="$WORK/q50"
python3 "$SHARED_BENCH/gen_project.py" --modules 50 --seed 1 --inject-errors 20 --out "$Q" > /dev/null \
  || die "gen_project.py --inject-errors 20 failed"
rc=0
(cd "$Q" && "$FLEDGE" check --format json benchproj > "$WORK/q50.json" 2> "$WORK/q50.err") || rc=$?
if [ "$rc" -gt 1 ]; then log "fledge exited $rc on the planted project"; CRASHED=1; fi
QREPORT="$WORK/quality.md"
{
  echo
  echo "## Quality: 50 modules, seed 1, 20 planted errors (fledge exit $rc)"
  echo
  python3 "$HERE/bench_report.py" quality "$Q/_expected.json" "$WORK/q50.json" || CRASHED=1
  echo
  echo "## Quality: clean projects (every diagnostic is a false positive)"
  echo
  for n in "${SIZES[@]}"; do
    rc=0
    (cd "$WORK/p$n" && "$FLEDGE" check --format json benchproj > "$WORK/clean$n.json" 2> "$WORK/clean$n.err") || rc=$?
    if [ "$rc" -gt 1 ]; then echo "- fledge exited $rc on the clean $n-module project"; CRASHED=1; continue; fi
    python3 "$HERE/bench_report.py" clean "$n" "$WORK/clean$n.json" || CRASHED=1
  done
} > "$QREPORT"   # not piped through tee: CRASHED must be set in this shell
cat "$QREPORT"
cat "$QREPORT" >> "$REPORT"

if [ -n "${OUT:-}" ]; then cp "$REPORT" "$OUT"; log "report written to $OUT"; fi
if [ "${KEEP:-0}" = "1" ]; then log "raw times: $TIMES; report: $REPORT"; fi
if [ "$CRASHED" != 0 ]; then
  log "something crashed (see above)"
  exit 1
fi
exit 0
