#!/usr/bin/env bash
# `fledge register` against `pyflyte register` on the FlyteAdmin stand-in (../shared/flyteadmin).
#
#   bench/register-bench.sh                       # examples/shop and a 200-module generated project
#   FLEDGE_BIN=target/release/fledge MODULES=200 bench/register-bench.sh
#   LATENCY_MS=10 bench/register-bench.sh          # FlyteAdmin 10 ms away each way (20 ms round trip)
#
# For each project, each tool gets its own fresh stand-in (same project, domain and --version),
# and is timed for
#   first:     the first registration (upload + every entity created), for fledge with no warm
#              serializer running (as after a reboot or 10 idle minutes);
#   warm:      fledge only: the first registration of another version (every entity created
#              again) with the warm serializer that the first run left (the daily case: edit,
#              register, edit, register); pyflyte has no such state, its "first" is every time;
#   unchanged: the same command again with nothing changed.
# pyflyte runs with HOME in the work dir; fledge with its serialization cache in the work dir
# (empty at the start, as on a fresh machine). One run each (ratios from one run: noisy on a
# shared machine). Prints seconds and pyflyte/fledge ratios.
# With LATENCY_MS, each stand-in's gRPC port is reached through bench/latency_proxy.py, which
# delays every byte by that much in each direction, as a cluster in a cloud region would be: the
# stand-in on 127.0.0.1 answers in well under a millisecond, a real FlyteAdmin does not.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
MODULES=${MODULES:-200}
IMAGE=ghcr.io/example/bench:v1
PY=$("$HERE/scripts/setup-python.sh" | tail -n1)
PYFLYTE=$(dirname "$PY")/pyflyte
FLEDGE=${FLEDGE_BIN:-}
if [ -z "$FLEDGE" ]; then
  (cd "$HERE" && cargo build --release --quiet --bin fledge) >&2
  FLEDGE=${CARGO_TARGET_DIR:-$HERE/target}/release/fledge
fi
[ -x "$FLEDGE" ] || { echo "no fledge binary at $FLEDGE" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "$WORK/cache/fledge/serializers" 2>/dev/null || true # fledge's warm serializers
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

start_admin() { # NAME -> writes $WORK/NAME.yaml
  local pid grpc blob
  read -r pid grpc blob < <("$HERE/../shared/flyteadmin/start.sh" "$WORK/$1-data")
  PIDS+=("$pid")
  if [ -n "${LATENCY_MS:-}" ]; then
    python3 "$HERE/bench/latency_proxy.py" "$grpc" "$LATENCY_MS" > "$WORK/$1-proxy.out" &
    PIDS+=("$!")
    for _ in $(seq 50); do grep -q READY "$WORK/$1-proxy.out" 2>/dev/null && break; sleep 0.1; done
    grpc=$(awk '{print $2}' "$WORK/$1-proxy.out")
  fi
  printf 'admin:\n  endpoint: dns:///%s\n  insecure: true\n' "$grpc" > "$WORK/$1.yaml"
}

run_fledge() { # DIR TARGET CONFIG [VERSION]
  (cd "$1" && VIRTUAL_ENV=$(dirname "$(dirname "$PY")") XDG_CACHE_HOME="$WORK/cache" \
    "$FLEDGE" register --config "$3" --version "${4:-bench1}" --image "$IMAGE" "$2" > "$WORK/last.log" 2>&1) \
    || { cat "$WORK/last.log" >&2; echo "fledge register failed" >&2; exit 1; }
}
run_pyflyte() { # DIR TARGET CONFIG [may-fail]
  (cd "$1" && HOME="$WORK/home" FLYTE_SDK_LOGGING_LEVEL=40 \
    "$PYFLYTE" --config "$3" register --project flytesnacks --domain development --version bench1 --image "$IMAGE" "$2" \
    > "$WORK/last.log" 2>&1) && return 0
  # pyflyte's workflow specs are not reproducible (upstream_node_ids in object-hash order), so its
  # unchanged re-registration can be refused as "different structure": report it, keep the time.
  if [ -n "${4:-}" ] && grep -q "different structure" "$WORK/last.log"; then PYFLYTE_NOTE=" (pyflyte: INVALID_ARGUMENT, different structure)"; return 0; fi
  cat "$WORK/last.log" >&2; echo "pyflyte register failed" >&2; exit 1
}

bench() { # LABEL DIR TARGET
  local label=$1 dir=$2 target=$3 t0 t1 t2 t3
  start_admin "$label-fledge"; start_admin "$label-pyflyte"
  pkill -f "$WORK/cache/fledge/serializers" 2>/dev/null || true # "first" starts with no warm serializer
  t0=$(now); run_fledge "$dir" "$target" "$WORK/$label-fledge.yaml"; t1=$(now)
  local n
  n=$(grep -c '"method": "AdminService/Create.*"code": "OK"' "$WORK/$label-fledge-data/calls.jsonl" || true)
  run_fledge "$dir" "$target" "$WORK/$label-fledge.yaml"; t2=$(now)
  run_fledge "$dir" "$target" "$WORK/$label-fledge.yaml" bench2; t3=$(now)
  local ff fu fw pf pu
  ff=$(secs "$t0" "$t1"); fu=$(secs "$t1" "$t2"); fw=$(secs "$t2" "$t3")
  t0=$(now); run_pyflyte "$dir" "$target" "$WORK/$label-pyflyte.yaml"; t1=$(now)
  PYFLYTE_NOTE=""
  run_pyflyte "$dir" "$target" "$WORK/$label-pyflyte.yaml" may-fail; t2=$(now)
  pf=$(secs "$t0" "$t1"); pu=$(secs "$t1" "$t2")
  ratio() { python3 -c "print(f'{$1/$2:.1f}')"; }
  printf '%-22s %5s entities | first: fledge %6ss  pyflyte %6ss  (%sx) | warm: fledge %6ss  (%sx) | unchanged: fledge %6ss  pyflyte %6ss  (%sx)%s\n' \
    "$label" "$n" "$ff" "$pf" "$(ratio "$pf" "$ff")" "$fw" "$(ratio "$pf" "$fw")" "$fu" "$pu" "$(ratio "$pu" "$fu")" "$PYFLYTE_NOTE"
}

mkdir -p "$WORK/home"
cp -r "$HERE/examples/shop" "$WORK/shop"
python3 "$HERE/../shared/bench/gen_project.py" --modules "$MODULES" --out "$WORK/gen" > /dev/null
echo "fledge: $FLEDGE; flytekit: $PY; work dir: $WORK; FlyteAdmin latency: ${LATENCY_MS:-0} ms each way"
bench "examples/shop" "$WORK/shop" shop
bench "generated-$MODULES" "$WORK/gen" benchproj
