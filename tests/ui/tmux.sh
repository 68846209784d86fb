#!/bin/sh
# tmux.sh: dllab's screens in a real terminal. Each case starts dllab in a detached tmux session
# of fixed size on a private server, waits for text on the screen (polling capture-pane, never a
# blind sleep), sends keys and asserts on what is visible: show-batch's half-block images, the
# ASCII mode under LANG=C, the "too small" screen on resize and the redraw after it, the home
# screen's help overlay and quit question, and a terminal left sane (icanon, echo) after q and
# after Ctrl-C, lrfind's Enter starting a training at the cursor, and a hung-up terminal keeping a
# finished run finished. Skips (77) without tmux or without the fashion-mnist files (tests/ui/lib.sh has
# the helpers).
set -u
TAG=tmux
SOCK=dllab-t$$
. "$(dirname "$0")/lib.sh"

# 1. show-batch: braille/half blocks in UTF-8, paging, q leaves a sane terminal.
start sb 100 30 C.UTF-8 "$DLLAB show-batch fashion-mnist -n 20"
wait_for sb "fashion-mnist: training batch"
wait_for sb "▀"
wait_for sb "page 1/"
$T send-keys -t sb Right
wait_for sb "page 2/"
if ! $T capture-pane -e -p -t sb | grep -q "$(printf '\033')\[[0-9;]*[34]8;"; then
    echo "FAIL: no colour escapes for the half-block images"; fails=$((fails + 1))
fi
# 2. resize: too small, then a redraw at the new size.
$T resize-window -t sb -x 60 -y 16
wait_for sb "terminal too small: 60x16"
$T resize-window -t sb -x 110 -y 32
wait_for sb "fashion-mnist: training batch"
refute sb "too small"
$T send-keys -t sb q
wait_for sb "Quit dllab\\? \\(y/n\\)"
$T send-keys -t sb y
restored sb
screen sb | grep -q "EXIT=0" || { echo "FAIL: show-batch did not exit 0"; fails=$((fails + 1)); }

# 3. LANG=C: ASCII mode, no braille or half blocks (they would print blank).
start asc 100 30 C "$DLLAB show-batch fashion-mnist -n 6"
wait_for asc "fashion-mnist: training batch"
wait_for asc "[@%#]"
refute asc "▀"
# 3b. NO_COLOR: no colour escapes at all, and the pictures turn into shades.
start noc 100 30 C.UTF-8 "env NO_COLOR=1 $DLLAB show-batch fashion-mnist -n 6"
wait_for noc "fashion-mnist: training batch"
wait_for noc "[@%#]"
refute noc "▀"
if $T capture-pane -e -p -t noc | grep -q "$(printf '\033')\[[0-9;]*[34]8;"; then
    echo "FAIL: colour escapes on the screen with NO_COLOR"; fails=$((fails + 1))
fi
$T send-keys -t noc C-c
restored noc

# 4. Ctrl-C restores the terminal.
$T send-keys -t asc C-c
restored asc

# 4b. A fatal signal (SIGSEGV) still gives the terminal back before the process dies.
start segv 100 30 C.UTF-8 "$DLLAB show-batch fashion-mnist -n 4"
wait_for segv "fashion-mnist: training batch"
shell=$($T display-message -p -t segv '#{pane_pid}')
victim=$(ps -o pid= --ppid "$shell" | head -n 1 | tr -d ' ')
if [ -n "$victim" ]; then
    kill -SEGV "$victim"
    wait_for segv "fatal signal; terminal restored"
    restored segv
else
    echo "FAIL: no dllab process under the segv pane"; fails=$((fails + 1))
fi

# 5. `dllab` alone on a terminal: the home screen on an empty store, the help overlay from the
# action table, the quit question.
start home 80 24 C.UTF-8 "$DLLAB"
wait_for home "No runs yet"
$T send-keys -t home '?'
wait_for home "Mark or unmark a run for comparison"
$T send-keys -t home '?'
wait_gone home "Mark or unmark"
$T send-keys -t home q
wait_for home "Quit dllab\\? \\(y/n\\)"
$T send-keys -t home n
wait_gone home "Quit dllab"
$T send-keys -t home q
$T send-keys -t home y
restored home

# 6. The training dashboard on a small Fashion-MNIST run: keys steer the trainer, every applied
# command shows in the event log and ends up in the store. The dashboard must come up (the
# skip for builds without one is gone: dllab train always has it now).
start tr 120 40 C.UTF-8 "$DLLAB train fashion-mnist --limit 1000 --valid-limit 200 --epochs 8 --bs 32 --threads 1"
if wait_for tr "loss \\(smoothing" 60; then
    # Braille cells of the curve (literal byte sequences: the test may run in the C locale).
    wait_for tr "⣀|⠉|⠒|⠤|⡇|⢸" 60
    $T send-keys -t tr u
    wait_for tr "unfreeze" 30
    $T send-keys -t tr +
    wait_for tr "lr-change scale 2" 30
    $T send-keys -t tr -
    wait_for tr "lr-change scale 0.5" 30
    $T send-keys -t tr = 1e-4 Enter
    wait_for tr "lr-change set 0\\.0001" 30
    $T send-keys -t tr f
    wait_for tr "(^|[^n])freeze [0-9]" 30
    $T send-keys -t tr p
    wait_for tr " paused" 30
    $T send-keys -t tr p
    wait_for tr "resume" 30
    $T send-keys -t tr s
    wait_for tr "will save a checkpoint after this batch"
    wait_for tr "checkpoint step-[0-9]" 30
    # Too small while training: the notice, then a full redraw at the old size.
    $T resize-window -t tr -x 70 -y 20
    wait_for tr "terminal too small: 70x20"
    $T resize-window -t tr -x 120 -y 40
    wait_for tr "loss \\(smoothing"
    $T send-keys -t tr q
    wait_for tr "Quit dllab\\? \\(y/n\\)"
    $T send-keys -t tr y
    restored tr
    events=$(env DLLAB_RUNS="$WORK/runs" "$DLLAB" show 1 2>&1)
    # s wrote a checkpoint named after its step (and logged the key as a save event).
    for kind in unfreeze lr-change freeze pause resume save step-; do
        echo "$events" | grep -q -- "$kind" || { echo "FAIL: no '$kind' event in the store:"; echo "$events"; fails=$((fails + 1)); }
    done
fi

# 7. dllab lrfind: Enter on the finished curve trains at the cursor's lr (a dllab train run).
start lf 100 30 C.UTF-8 "$DLLAB lrfind fashion-mnist --limit 256 --valid-limit 64 --num-it 20"
# "v valley" labels the panel from the start: the sweep's end is "(running)" going away, which
# takes far more than 10 s on a loaded 2-core machine.
if wait_for lf "v valley" 60 && wait_gone lf "LR finder \\(running\\)" 120; then
    $T send-keys -t lf Enter
    wait_for lf "loss \\(smoothing" 60
    wait_for lf " done$" 60
    $T send-keys -t lf q
    wait_for lf "Quit dllab\\? \\(y/n\\)"
    $T send-keys -t lf y
    restored lf
    screen lf | grep -q "EXIT=0" || { echo "FAIL: lrfind then train did not exit 0"; screen lf; fails=$((fails + 1)); }
    runs=$(env DLLAB_RUNS="$WORK/runs" "$DLLAB" runs --json 2>&1)
    echo "$runs" | grep -Eq '"lr": ?"=' || { echo "FAIL: no run trained with the cursor's lr after Enter:"; echo "$runs"; fails=$((fails + 1)); }
fi

# 8. A closed terminal (SIGHUP) on the finished dashboard keeps the run finished, not crashed.
start hup 100 30 C.UTF-8 "$DLLAB train fashion-mnist --limit 128 --valid-limit 32 --name hup"
if wait_for hup " done$" 60; then
    $T kill-session -t hup
    i=0
    while [ $i -lt 50 ] && ! env DLLAB_RUNS="$WORK/runs" "$DLLAB" runs --status finished 2>&1 | grep -q "hup-1"; do
        sleep 0.1; i=$((i + 1))
    done
    env DLLAB_RUNS="$WORK/runs" "$DLLAB" runs --status finished 2>&1 | grep -q "hup-1" ||
        { echo "FAIL: a hung-up finished training is not marked finished:"; env DLLAB_RUNS="$WORK/runs" "$DLLAB" runs; fails=$((fails + 1)); }
fi

# 9. Home's new run: the form shows a bad folder in place and stays; fixed, Enter trains in the
# same process; q on the dashboard comes back to the home screen with the new run selected.
start nr 100 30 C.UTF-8 "$DLLAB"
if wait_for nr "dllab - runs"; then
    $T send-keys -t nr n
    wait_for nr "dllab - new run"
    for i in $(seq 20); do $T send-keys -t nr BSpace; done
    $T send-keys -t nr -l "/no/such/folder"
    $T send-keys -t nr Enter
    wait_for nr "/no/such/folder: no such folder or archive"
    wait_for nr "dllab - new run"
    for i in $(seq 20); do $T send-keys -t nr BSpace; done
    $T send-keys -t nr -l "fashion-mnist"
    for i in 1 2 3 4 5; do $T send-keys -t nr Down; done
    for i in $(seq 8); do $T send-keys -t nr BSpace; done
    $T send-keys -t nr -l "256"
    $T send-keys -t nr Enter
    if wait_for nr "loss \\(smoothing" 60 && wait_for nr " done$" 90; then
        $T send-keys -t nr q
        wait_for nr "Quit dllab\\? \\(y/n\\)"
        $T send-keys -t nr y
        wait_for nr "dllab - runs" 30
        new=$(env DLLAB_RUNS="$WORK/runs" "$DLLAB" runs 2>&1 | grep -o 'fmnist-resnet-xs-[0-9]*' | sort -t- -k4 -n | tail -1)
        # the selected row is drawn in reverse video (SGR 7)
        $T capture-pane -e -p -t nr | grep "$new" | grep -q "$(printf '\033')\\[[0-9;]*7m" ||
            { echo "FAIL: the new run $new is not selected on home:"; $T capture-pane -e -p -t nr | cat -v | head -12; fails=$((fails + 1)); }
        $T send-keys -t nr q
        $T send-keys -t nr y
        restored nr
    fi
fi

[ $fails -eq 0 ] && echo "tmux UI tests passed"
exit $((fails > 0))
