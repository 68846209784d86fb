#!/bin/sh
# walk.sh: the fastbook walk-through's live-screen findings in a real terminal (tmux): on an
# 80x24 dashboard the key bar shows the steering keys first and "? more"; paused, the ETA and
# img/s stand still; a validation pass shows "valid k/n" with an ETA (not a frozen bar with
# ETA --:--); stop-after-epoch answers in words; once the fit ends, `c` shows the interpretation
# of the best epoch. Skips (77) without tmux or the fashion-mnist files (tests/ui/lib.sh).
set -u
TAG=walk
SOCK=dllab-w$$
. "$(dirname "$0")/lib.sh"

start d 80 24 C.UTF-8 "$DLLAB train fashion-mnist --limit 768 --valid-limit 960 --bs 64 --epochs 2"
wait_for d "batch [0-9]+/12  ETA [0-9]" 120
bar=$(screen d | sed -n 24p)
case "$bar" in
    *"p pause"*"e stop-epoch"*"= lr-set"*"- lr-down"*"? more"*) echo "ok   80-column key bar: $bar";;
    *) echo "FAIL: key bar at 80x24: $bar"; fails=$((fails + 1));;
esac
# Paused: the progress line (batch, ETA, img/s) does not move while the clock runs.
$T send-keys -t d p
wait_for d " paused" 30
sleep 1
a=$(screen d | sed -n 3p)
sleep 3
b=$(screen d | sed -n 3p)
if [ "$a" = "$b" ]; then
    echo "ok   paused progress stands still: $a"
else
    echo "FAIL: paused, the progress line moved:"; echo "$a"; echo "$b"; fails=$((fails + 1))
fi
$T send-keys -t d p
wait_for d "resuming" 10
# The validation pass of 960 images shows its progress and an ETA.
wait_for d "valid [0-9]+/15  ETA [0-9][0-9]:[0-9][0-9]" 180
refute d "ETA --:--"
$T send-keys -t d e
wait_for d "will stop at the end of the (next|this) epoch" 10
refute d "stop_after_epoch"
wait_for d "stopped|finished" 300
wait_for d "interpretation of the b" 60
$T send-keys -t d c
wait_for d "confusion matrix" 10
$T send-keys -t d q
wait_for d "Quit dllab" 10
$T send-keys -t d y
wait_for d "EXIT=" 20
exit $((fails > 0))
