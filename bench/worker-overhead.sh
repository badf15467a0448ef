#!/usr/bin/env bash
# Per-task overhead of fledge's warm Python worker (cli/src/run/worker/worker.py) against pyflyte.
#
#   bench/worker-overhead.sh                 # N=50, the venv from scripts/setup-python.sh
#   FLEDGE_PYTHON=/path/to/python N=100 bench/worker-overhead.sh
#
# 1. generates a project in a temp dir: `tasks.py` with N trivial tasks `t0..t{N-1}` (int -> int)
#    and a workflow `wf` that chains them;
# 2. warm worker: starts worker.py, waits until it has imported flytekit, runs one warm-up
#    attempt, then N attempts one after the other (each a real attempt: fork, import of the
#    project's module unless the worker has learned it, flytekit's setup_execution and
#    dispatch_execute, LiteralMap in and out over the worker's pipes), timing from the first
#    request sent to the last result read: per-task = total / N;
# 3. pyflyte: `pyflyte run tasks.py wf` (the N tasks in one local run, in-process, no isolation
#    between tasks) and `pyflyte run tasks.py t0` (what running one task on its own costs), each
#    timed RUNS times; the median is reported;
# 4. prints per-task milliseconds and the ratios, the worker's CPU time per task (user+sys of the
#    worker and its reaped children, from /proc: less sensitive to other load than wall time), and
#    the load average.
# Wall-clock numbers on a shared machine are noisy; compare medians of several RUNS.
set -euo pipefail

N=${N:-50}
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=${FLEDGE_PYTHON:-$HOME/.cache/fledge-dev/venv-flytekit-1.16.31/bin/python}
if [ ! -x "$PY" ]; then
  echo "no Python with flytekit at $PY: run scripts/setup-python.sh or set FLEDGE_PYTHON" >&2
  exit 2
fi
PYFLYTE=$(dirname "$PY")/pyflyte
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" - "$WORK" "$N" <<'EOF'
import sys
work, n = sys.argv[1], int(sys.argv[2])
lines = ["from flytekit import task, workflow", ""]
for i in range(n):
    lines += ["@task", f"def t{i}(x: int) -> int:", "    return x + 1", ""]
lines += ["@workflow", "def wf(x: int = 0) -> int:", "    y = x"]
lines += [f"    y = t{i}(x=y)" for i in range(n)]
lines += ["    return y", ""]
open(f"{work}/tasks.py", "w").write("\n".join(lines))
EOF

read -r worker_ms worker_cpu_ms < <("$PY" - "$HERE/cli/src/run/worker/worker.py" "$WORK" "$N" "$RUNS" <<'EOF'
import json, os, statistics, struct, subprocess, sys, time
from flyteidl.core import literals_pb2
script, work, n, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def frame(header, body=b""):
    h = json.dumps(header).encode()
    return struct.pack(">I", len(h)) + h + struct.pack(">I", len(body)) + body

def read(p):
    def exact(k):
        data = b""
        while len(data) < k:
            chunk = p.stdout.read(k - len(data))
            if not chunk:
                raise SystemExit("the worker exited")
            data += chunk
        return data
    header = json.loads(exact(struct.unpack(">I", exact(4))[0]))
    body = exact(struct.unpack(">I", exact(4))[0])
    return header, body

inputs = literals_pb2.LiteralMap()
inputs.literals["x"].scalar.primitive.integer = 1
body = inputs.SerializeToString()
p = subprocess.Popen([sys.executable, "-u", script, work], cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
marker, seen = b"\nfledge-worker-protocol-1\n", b""
while not seen.endswith(marker):  # frames start after this line
    byte = p.stdout.read(1)
    if not byte:
        raise SystemExit("the worker exited before its marker")
    seen += byte
assert read(p)[0]["event"] == "ready"
next_id = 0

def attempt(i):
    global next_id
    next_id += 1
    req = {"op": "run", "id": next_id, "module": "tasks", "task": f"t{i}", "raw_output_dir": f"{work}/raw",
           "attempt": 0, "log": f"{work}/log-{next_id}.txt"}
    p.stdin.write(frame(req, body))
    p.stdin.flush()
    header, out = read(p)
    assert header.get("status") == "ok", header
    assert literals_pb2.LiteralMap.FromString(out).literals["o0"].scalar.primitive.integer == 2

attempt(0)  # warm-up: the worker learns the project's module while idle
time.sleep(0.5)
def cpu_ms():
    # utime, stime of the worker and cutime, cstime of its reaped children (Linux /proc).
    fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) * 1000 / os.sysconf("SC_CLK_TCK")

per_task, cpu_per_task = [], []
for _ in range(runs):
    start, cpu0 = time.perf_counter(), cpu_ms()
    for i in range(n):
        attempt(i)
    per_task.append((time.perf_counter() - start) / n * 1000)
    time.sleep(0.1)  # let the last child be reaped
    cpu_per_task.append((cpu_ms() - cpu0) / n)
p.stdin.close()
p.wait()
print(f"{statistics.median(per_task):.1f} {statistics.median(cpu_per_task):.1f}")
EOF
)

median_of() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_cmd() {
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
cd "$WORK"
wf_s=$(for _ in $(seq "$RUNS"); do time_cmd "$PYFLYTE" run tasks.py wf; done | median_of)
one_s=$(for _ in $(seq "$RUNS"); do time_cmd "$PYFLYTE" run tasks.py t0 --x 1; done | median_of)

python3 - "$N" "$worker_ms" "$wf_s" "$one_s" "$worker_cpu_ms" <<'EOF'
import os, sys
n, worker_ms, wf_s, one_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
cpu_ms = float(sys.argv[5])
wf_ms = wf_s * 1000 / n
one_ms = one_s * 1000
print(f"| what | per task (ms) | vs warm worker |")
print(f"|---|---:|---:|")
print(f"| fledge warm worker, {n} attempts (fork per attempt) | {worker_ms:.1f} | 1x |")
print(f"| `pyflyte run` of a {n}-task workflow, total / {n} (in-process) | {wf_ms:.1f} | {wf_ms / worker_ms:.1f}x |")
print(f"| `pyflyte run` of one task | {one_ms:.1f} | {one_ms / worker_ms:.1f}x |")
marginal = (wf_s - one_s) * 1000 / (n - 1)
print(f"| `pyflyte run`: each extra task of the workflow, ((workflow - one task) / {n - 1}) | {marginal:.1f} | {marginal / worker_ms:.2f}x |")
print(f"warm worker CPU time (worker + children, user+sys) per task: {cpu_ms:.1f} ms")
print(f"load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
print(f"target (< 50 ms per task): {'PASS' if worker_ms < 50 else 'MISS'}")
EOF
