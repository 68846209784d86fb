#!/bin/sh
# bench-tui.sh: training throughput with the dashboard open against --no-tui (the target: within
# 3 %). Runs the same small Fashion-MNIST training headless and inside a tmux terminal, ROUNDS
# times each, interleaved, and prints the wall times and the ratio of the medians. With GNU time
# (/usr/bin/time) it also prints the CPU seconds (user + sys) of the dllab process in both modes:
# on a shared, time-sliced host wall time swings by +-20 % run to run, while the CPU time still
# shows what drawing the dashboard costs (it runs in the training process). Not part of make check
# (it takes minutes): run it by hand,
#   top_builddir=BUILD sh tests/ui/bench-tui.sh
set -eu
command -v tmux >/dev/null 2>&1 || { echo "needs tmux"; exit 77; }
DLLAB=$(cd "${top_builddir:-.}/src" && pwd)/dllab
ROUNDS=${ROUNDS:-3}
ARGS=${ARGS:-"fashion-mnist --limit 3000 --valid-limit 500 --epochs 1 --bs 64 --threads 1"}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dllab-bench-XXXXXX")
SOCK=dllab-b$$
trap 'tmux -L $SOCK kill-server >/dev/null 2>&1; rm -rf "$WORK"' EXIT INT TERM
# Precondition: tmux can start a server (else say its reason once, not a hang per round).
if ! why=$(tmux -L $SOCK -f /dev/null new-session -d -s probe "sleep 30" 2>&1); then
    echo "tmux cannot start a server; tmux said:"; echo "$why"; exit 1
fi
tmux -L $SOCK kill-session -t probe >/dev/null 2>&1
now() { date +%s.%N; }
headless=""
tui=""
cpu_h=""
cpu_t=""
# cpu_of FILE: user + sys seconds that GNU time wrote with -f '%U %S'
cpu_of() { awk 'END {printf "%.2f", $1 + $2}' "$1"; }
timed() { if [ -x /usr/bin/time ]; then echo "/usr/bin/time -f %U_%S -o $1"; fi; }
for r in $(seq "$ROUNDS"); do
    t0=$(now)
    DLLAB_RUNS="$WORK/runs" $(timed "$WORK/cpu-h") "$DLLAB" train $ARGS --no-tui >/dev/null
    t1=$(now)
    headless="$headless $(echo "$t1 - $t0" | bc)"
    [ -f "$WORK/cpu-h" ] && cpu_h="$cpu_h $(tr _ ' ' < "$WORK/cpu-h" > "$WORK/c" && cpu_of "$WORK/c")"
    rm -f "$WORK/done"
    t0=$(now)
    tmux -L $SOCK -f /dev/null new-session -d -x 120 -y 40 \
        "env LANG=C.UTF-8 TERM=screen-256color DLLAB_RUNS=$WORK/runs $(timed "$WORK/cpu-t") $DLLAB train $ARGS; touch $WORK/done; sleep 5"
    # The dashboard stays up when training ends: watch for the final state, then quit.
    # The end of the run (interpretation included, as headless) is when the command returns.
    until tmux -L $SOCK capture-pane -p 2>/dev/null | grep -q " done"; do sleep 0.1; done
    tmux -L $SOCK send-keys q y
    while [ ! -f "$WORK/done" ]; do sleep 0.05; done
    t1=$(now)
    tmux -L $SOCK kill-server >/dev/null 2>&1 || true
    tui="$tui $(echo "$t1 - $t0" | bc)"
    [ -f "$WORK/cpu-t" ] && cpu_t="$cpu_t $(tr _ ' ' < "$WORK/cpu-t" > "$WORK/c" && cpu_of "$WORK/c")"
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mh=$(median $headless)
mt=$(median $tui)
echo "headless (s):$headless   median $mh"
echo "dashboard (s):$tui   median $mt"
echo "dashboard / headless: $(echo "scale=4; $mt / $mh" | bc)"
if [ -n "$cpu_h" ] && [ -n "$cpu_t" ]; then
    ch=$(median $cpu_h)
    ct=$(median $cpu_t)
    echo "headless CPU (s):$cpu_h   median $ch"
    echo "dashboard CPU (s):$cpu_t   median $ct"
    echo "dashboard / headless (CPU): $(echo "scale=4; $ct / $ch" | bc)"
fi
