#!/bin/bash
# perf/echo_trace.sh — what the echo server asks of the kernel per round trip, counted
# by kernel tracepoints rather than timed (exact where the machine is too noisy for CPU
# figures): system calls, io_uring_enter calls, completions, the receives that had to
# arm a poll, and how many deferred completions each io_uring_enter ran (the kernel
# runs at most 20 per call with DEFER_TASKRUN). Needs perf with tracepoint access.
# Run: perf/echo_trace.sh [--build build] CONNS SIZE [VAR=value ...]   e.g.
#      perf/echo_trace.sh 1000 64 GEV_POLLER=io_uring;  perf/echo_trace.sh 1 64 GEV_POLLER=epoll
set -euo pipefail
build=build
[ "${1:-}" = "--build" ] && { build=$2; shift 2; }
conns=${1:?CONNS}; size=${2:?SIZE}; shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env "$@" taskset -c 0 perf record -q -o "$out/data" -e raw_syscalls:sys_enter \
    -e syscalls:sys_enter_io_uring_enter -e io_uring:io_uring_complete -e io_uring:io_uring_poll_arm \
    -e io_uring:io_uring_local_work_run \
    "$build/examples/echo_server" --port "$port" --quiet --seconds 4 >/dev/null 2>&1 &
server=$!
sleep 1.5   # perf's own start-up
load=$("$build/perf/loadgen" --port "$port" --connections "$conns" --size "$size" --seconds 1.5 --warmup 0 --cpu 1)
wait "$server" || true
rt=$(sed 's/.*round_trips=\([0-9]*\).*/\1/' <<<"$load")
perf script -i "$out/data" 2>/dev/null | awk -v rt="$rt" -v cfg="${conns}x${size} $*" '
    /raw_syscalls:sys_enter/ { sys++ }
    /sys_enter_io_uring_enter/ { enter++ }
    /io_uring_complete/ { cqe++ }
    /io_uring_poll_arm/ { arm++ }
    /io_uring_local_work_run/ { runs++; match($0, /count [0-9]+/); if (substr($0, RSTART + 6, RLENGTH - 6) + 0 >= 20) capped++ }
    END {
        printf "echo_trace %s round_trips=%d syscalls_per_rt=%.2f enters_per_rt=%.3f cqes_per_rt=%.2f poll_arms_per_rt=%.2f",
               cfg, rt, sys / rt, enter / rt, cqe / rt, arm / rt
        printf " local_work_runs=%d capped_at_20=%.0f%%\n", runs, runs ? 100 * capped / runs : 0
    }'
