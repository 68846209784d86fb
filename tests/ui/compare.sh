#!/bin/sh
# compare.sh: the compare screen in a real terminal (tmux, private server, fixed size; the helpers
# are tests/ui/lib.sh's). Two finished runs come from a tiny `dllab sweep`; a third trains in
# the background while `dllab compare` shows all three, and the screen must follow it from
# "running" to "finished" with no key pressed (the view polls the store). Keys: Space hides a run,
# d shows all hyper-parameters, b makes a baseline (checked in the store), x changes the axis, the
# help overlay lists the compare actions, q y quits and leaves a sane terminal. The home screen's
# c opens the same screen on the marked runs. Skips (77) without tmux or Fashion-MNIST.
set -u
TAG=tmuxcmp
SOCK=dllab-c$$
. "$(dirname "$0")/lib.sh"
export DLLAB_RUNS="$WORK/runs"

TINY="--limit 64 --valid-limit 64 --bs 32 --threads 1"
"$DLLAB" sweep fashion-mnist --lr 1e-3,1e-2 $TINY --name tm --no-tui >"$WORK/sweep.log" 2>&1 ||
    { echo "FAIL: the sweep that makes the runs failed:"; cat "$WORK/sweep.log"; exit 1; }

# A run that keeps training while the screen is up.
"$DLLAB" train fashion-mnist --limit 512 --valid-limit 64 --bs 32 --epochs 3 --threads 1 --name live --no-tui \
    >"$WORK/live.log" 2>&1 &
BG=$!
i=0
until "$DLLAB" runs 2>/dev/null | grep -q "live-1"; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "FAIL: the background run never appeared"; cat "$WORK/live.log"; exit 1; }
    sleep 0.1
done

start cmp 120 40 C.UTF-8 "$DLLAB compare tm-1-1 tm-2-1 live-1"
wait_for cmp "compare 3 runs \\(3 shown\\)"
wait_for cmp "live-1 +running"
wait_for cmp "lr +=0[.]001"
# curves are drawn in braille (literal bytes: the test may run in the C locale)
wait_for cmp "⣀|⠉|⠒|⠤|⡇|⢸"
# the live run finishes while we watch
wait_for cmp "live-1 +finished" 300
wait_for cmp "epochs +1 +1 +3"
$T send-keys -t cmp ' '
wait_for cmp "\\(2 shown\\)"
$T send-keys -t cmp ' '
wait_for cmp "\\(3 shown\\)"
$T send-keys -t cmp d
wait_for cmp "hyper-parameters \\(all"
$T send-keys -t cmp x
wait_for cmp "x: epoch"
$T send-keys -t cmp Down
$T send-keys -t cmp b
wait_for cmp "\\* = baseline"
$T send-keys -t cmp '?'
wait_for cmp "Draw or hide the run under the cursor"
$T send-keys -t cmp '?'
wait_gone cmp "Draw or hide the run"
$T send-keys -t cmp q
wait_for cmp "Quit dllab\\? \\(y/n\\)"
$T send-keys -t cmp y
restored cmp
"$DLLAB" baseline | grep -q "tm-2-1" || { echo "FAIL: b did not set the store's baseline"; fails=$((fails + 1)); }

# The home screen: mark two runs with Space, c opens the compare screen on them.
start home 100 30 C.UTF-8 "$DLLAB home"
wait_for home "tm-1-1"
# (the selection starts on the newest run, and Space marks it)
$T send-keys -t home ' '
wait_for home "1 marked"
$T send-keys -t home Up
$T send-keys -t home ' '
wait_for home "2 marked"
$T send-keys -t home c
wait_for home "compare 2 runs"
$T send-keys -t home Escape
wait_gone home "compare 2 runs"
$T send-keys -t home q
$T send-keys -t home y
restored home

[ $fails -eq 0 ] && echo "tmux compare tests passed"
exit $((fails > 0))
