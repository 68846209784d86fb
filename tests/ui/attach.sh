#!/bin/sh
# attach.sh: dllab in real terminals (tmux) across processes:
#  1. a headless training in the background; `dllab attach` in a pane shows it; `u` and `+` on
#     the attached screen are applied by the trainer (their events appear with the attach's pid
#     as origin); `d` detaches and the training goes on; attach again; `e` stops it at the end
#     of the epoch and the attached screen says the training has ended; attaching to it now says
#     it is not training. Enter on the running run at home attaches as well.
#  2. a dashboard training, `d`: the training goes on in the background; the pane is killed (a
#     hang-up); the run still finishes as `finished`.
#  3. resume keeps the history: a dashboard run stopped with Ctrl-C prints the --resume line;
#     `dllab train --resume` shows the earlier epochs and events from the start.
TAG=attach
SOCK=dllab-attach-$$
. "${srcdir:-.}/tests/ui/lib.sh"
export DLLAB_TEST=1
RUNS=$WORK/runs
# wait_status RUN STATUS SECONDS: until `dllab runs` lists RUN with STATUS
wait_status() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        "$DLLAB" runs --runs "$RUNS" 2>/dev/null | grep -qE "^$1 .* $2( |$)" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "FAIL: run $1 never became $2:"; "$DLLAB" runs --runs "$RUNS"
    fails=$((fails + 1))
    return 1
}

# ---- 1. attach to a headless run ----
"$DLLAB" train fashion-mnist --limit 320 --valid-limit 64 --epochs 200 --no-tui --runs "$RUNS" \
    >"$WORK/headless.log" 2>&1 &
BG=$!
R=fmnist-resnet-xs-1
wait_status $R running 60
start at1 120 36 C.UTF-8 "$DLLAB attach $R"
wait_for at1 "$R \\(attached, pid $BG\\)" 20
wait_for at1 "epoch [0-9]+/200" 20
$T send-keys -t at1 u
wait_for at1 "unfreeze 0 \\(attach pid [0-9]+\\)" 30
$T send-keys -t at1 +
wait_for at1 "lr-change scale 2 \\(attach pid [0-9]+\\)" 30
wait_for at1 "applied lr-scale 2 at step" 10
$T send-keys -t at1 d
wait_for at1 "detached from run $R: it goes on training" 10
wait_for at1 "EXIT=0" 5
wait_status $R running 5
kill -0 $BG || { echo "FAIL: the training stopped after detach"; fails=$((fails + 1)); }
# Enter on the running run at home attaches too; d goes back home
start home 120 36 C.UTF-8 "$DLLAB home --runs $RUNS"
wait_for home "$R .*running" 20
$T send-keys -t home Enter
wait_for home "$R \\(attached, pid $BG\\)" 20
$T send-keys -t home d
wait_for home "dllab - runs" 10
$T send-keys -t home q
$T send-keys -t home y
start at2 120 36 C.UTF-8 "$DLLAB attach $R"
wait_for at2 "$R \\(attached" 20
wait_for at2 "lr-change scale 2 \\(attach pid" 20 # the history is there
$T send-keys -t at2 e
wait_for at2 "stop after epoch \\(attach pid" 60
wait_for at2 "the training has ended: stopped" 120
$T send-keys -t at2 q
wait_for at2 "s: stop the training  d: detach" 5
$T send-keys -t at2 d
wait_for at2 "run $R has ended: stopped" 10
restored at2
wait "$BG" 2>/dev/null
BG=
start at3 100 30 C.UTF-8 "$DLLAB attach $R"
wait_for at3 "run $R is not training \\(stopped\\): nothing to attach to" 10
wait_for at3 "EXIT=3" 5

# ---- 2. detach from the training's own dashboard, then the window closes ----
start dash 120 36 C.UTF-8 "$DLLAB train fashion-mnist --limit 192 --valid-limit 64 --epochs 3 --runs $RUNS"
R2=fmnist-resnet-xs-2
wait_for dash "epoch [0-9]+/3" 60
$T send-keys -t dash d
wait_for dash "run $R2 goes on in the background \\(pid [0-9]+\\): dllab attach $R2" 10
pid=$(screen dash | sed -n 's/.*in the background (pid \([0-9]*\)).*/\1/p' | head -1)
$T kill-session -t dash # the pane closes: a hang-up for whatever still runs in it
sleep 1
wait_status $R2 finished 300
[ -s "$RUNS/$R2/train.log" ] || { echo "FAIL: no $RUNS/$R2/train.log"; fails=$((fails + 1)); }
grep -q "run $R2 finished" "$RUNS/$R2/train.log" ||
    { echo "FAIL: the log lacks the end:"; cat "$RUNS/$R2/train.log"; fails=$((fails + 1)); }
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && sleep 2
start fin 100 30 C.UTF-8 "$DLLAB attach $R2"
wait_for fin "run $R2 is not training \\(finished\\): nothing to attach to" 10

# ---- 3. resume keeps the run's history on screen ----
start res1 120 36 C.UTF-8 "$DLLAB train fashion-mnist --limit 192 --valid-limit 64 --epochs 200 --runs $RUNS"
R3=fmnist-resnet-xs-3
wait_for res1 "│1 +[0-9]+\\.[0-9]+ +[0-9]+\\.[0-9]+" 120
$T send-keys -t res1 C-c
wait_for res1 "run $R3 stopped" 30
wait_for res1 "continue it with: dllab train --resume $R3 --runs $RUNS" 5
start res2 120 36 C.UTF-8 "$DLLAB train --resume $R3 --runs $RUNS"
# at once, before any new epoch: the earlier epochs, their events and the stop
wait_for res2 "│0 +[0-9]+\\.[0-9]+ +[0-9]+\\.[0-9]+" 60
wait_for res2 "│1 +[0-9]+\\.[0-9]+ +[0-9]+\\.[0-9]+" 5
wait_for res2 "stop now" 5
wait_for res2 "checkpoint" 5
$T send-keys -t res2 q
$T send-keys -t res2 y
restored res2

[ $fails -eq 0 ] && echo "attach.sh: all passed"
exit $fails
