#!/bin/sh
# phases.sh: learning rates and fine_tune's phases on the dashboard, in a real terminal (tmux):
#   1. the LR finder's Enter trains at the cursor's rate for every group: the dashboard's lr
#      header shows one rate three times (fastai's float, not slice);
#   2. fine_tune from a saved run: the progress bar says "frozen epoch 1/1", the epochs table has
#      a "frozen 0" row, then "epoch 1/N"; the header never says "done" before the last fit has
#      ended; the loss plot marks the unfreeze (a tick on the x axis);
#   3. `--lr =50` diverges: caught before NaN, the run pauses with the lower-lr banner.
# Skips (77) without tmux or the fashion-mnist files (tests/ui/lib.sh).
set -u
TAG=phases
SOCK=dllab-p$$
. "$(dirname "$0")/lib.sh"

# 1. lrfind, Enter: one rate for all groups.
start lf 100 30 C.UTF-8 "$DLLAB lrfind fashion-mnist --limit 256 --valid-limit 64 --num-it 20"
if wait_for lf "v valley" 60 && wait_gone lf "LR finder \\(running\\)" 120; then
    $T send-keys -t lf Enter
    wait_for lf "loss \\(smoothing" 60
    # "groups 3, unfrozen  lr 2.1e-3 2.1e-3 2.1e-3  mom 0.95": the same rate three times
    wait_for lf "groups 3, unfrozen  lr ([0-9.e+-]+) \\1 \\1  mom" 60
    screen lf | grep -E "groups 3" | sed 's/^/captured: /'
    wait_for lf " done$" 90
    $T send-keys -t lf q
    wait_for lf "Quit dllab\\? \\(y/n\\)"
    $T send-keys -t lf y
    restored lf
    runs=$(env DLLAB_RUNS="$WORK/runs" "$DLLAB" runs --json 2>&1)
    echo "$runs" | grep -Eq '"lr": ?"=' ||
        { echo "FAIL: the run after Enter is not stored with one lr for every group:"; echo "$runs"; fails=$((fails + 1)); }
fi

# 2. fine_tune's two phases.
env DLLAB_RUNS="$WORK/runs" "$DLLAB" train fashion-mnist --limit 256 --valid-limit 64 --name base --no-tui >/dev/null 2>&1 ||
    { echo "FAIL: the base run for fine_tune did not train"; fails=$((fails + 1)); }
start ft 120 40 C.UTF-8 "$DLLAB train fashion-mnist --pretrained base-1 --limit 1000 --valid-limit 200 --bs 32 --epochs 2 --threads 1"
if wait_for ft "frozen epoch 1/1" 60; then
    screen ft | grep -E "frozen epoch" | sed 's/^/captured: /'
    # until the unfrozen fit starts, the phase badge must never read "done"
    i=0
    while [ $i -lt 1200 ] && ! screen ft | grep -Eq "^epoch [0-9]+/2 "; do
        if screen ft | grep -Eq " done$"; then
            echo "FAIL: 'done' between fine_tune's phases:"; screen ft; fails=$((fails + 1)); break
        fi
        sleep 0.1; i=$((i + 1))
    done
    wait_for ft "^epoch 1/2 " 60
    wait_for ft "│frozen 0 " 10
    wait_for ft "unfreeze 0" 10
    wait_for ft "▲" 10
    screen ft | grep -E "frozen 0 |^epoch 1/2|unfreeze 0|▲" | sed 's/^/captured: /'
    wait_for ft " done$" 120
    wait_for ft "│1 " 10
    $T send-keys -t ft q
    wait_for ft "Quit dllab\\? \\(y/n\\)"
    $T send-keys -t ft y
    restored ft
fi

# 3. An lr of 50 for every group: diverged before NaN, paused, a lower lr offered.
start dv 120 40 C.UTF-8 "$DLLAB train fashion-mnist --limit 1000 --valid-limit 200 --bs 32 --lr =50 --threads 1 --name dv"
if wait_for dv " diverged at lr [0-9.]+ \\(step [0-9]+\\): weights restored" 60; then
    wait_for dv "'=' to set a lower lr \\(try [0-9.e-]+\\)" 10
    wait_for dv " paused" 10
    screen dv | grep -E "diverged|paused|lower lr" | sed 's/^/captured: /'
    refute dv "nan"
    $T send-keys -t dv q
    wait_for dv "Quit dllab\\? \\(y/n\\)"
    $T send-keys -t dv y
    restored dv
    shown=$(env DLLAB_RUNS="$WORK/runs" "$DLLAB" show dv-1 --no-tui 2>&1)
    echo "$shown" | grep -q "above 4x its best" ||
        { echo "FAIL: the run's events do not say why it diverged:"; echo "$shown"; fails=$((fails + 1)); }
fi

[ $fails -eq 0 ] && echo "phases UI tests passed"
exit $((fails > 0))
