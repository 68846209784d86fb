#!/bin/sh
# suite_under_load.sh [ROUNDS]: runs the whole `make -j2 check` ROUNDS times (default 5) in a row
# while two `dllab train` processes keep both cores busy, and prints one line per round (status,
# minutes, load) and a summary. It proves the suite does not depend on an idle machine: every wait
# in a test must stretch with the load instead of timing out. Run from a built tree:
#   sh tests/bench/suite_under_load.sh 5
# The two loaders train Fashion-MNIST headless in a throw-away run store and are restarted when
# they finish; they are stopped (SIGTERM, then SIGKILL) when the rounds are done or on Ctrl-C.
set -u
rounds=${1:-5}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
[ -x src/dllab ] || { echo "suite_under_load: build first (src/dllab is missing)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dllab-load.XXXXXX")
loaders=""

load_forever() { # one loader: a training that is restarted whenever it ends
    while :; do
        "$top/src/dllab" train fashion-mnist --limit 20000 --epochs 50 --no-tui \
            --runs "$tmp/runs-$1" >"$tmp/loader-$1.log" 2>&1
        sleep 1
    done
}
stop_loaders() {
    for pid in $loaders; do pkill -TERM -P "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
    sleep 2
    for pid in $loaders; do pkill -KILL -P "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap 'stop_loaders; exit 130' INT TERM

load_forever 1 & loaders="$loaders $!"
load_forever 2 & loaders="$loaders $!"
sleep 5
echo "suite_under_load: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "suite_under_load: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-(unset)}, 2 loaders running"
passed=0
i=1
while [ "$i" -le "$rounds" ]; do
    start=$(date +%s)
    make -j2 check >"$tmp/round-$i.log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    summary=$(grep -E '^# (TOTAL|PASS|FAIL|SKIP|ERROR):' "$tmp/round-$i.log" | tr -s ' ' | tr '\n' ' ')
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        verdict=pass
    else
        verdict=FAIL
        cp "$tmp/round-$i.log" "$top/suite-under-load-round-$i.log"
        [ -f test-suite.log ] && cp test-suite.log "$top/suite-under-load-round-$i.suite.log" # the failed suites' logs
    fi
    printf 'round %d: %s in %d min %02d s, load %s, %s\n' "$i" "$verdict" $((secs / 60)) \
        $((secs % 60)) "$(cut -d' ' -f1-3 /proc/loadavg)" "$summary"
    i=$((i + 1))
done
stop_loaders
echo "suite_under_load: $passed of $rounds rounds passed"
[ "$passed" -eq "$rounds" ]
