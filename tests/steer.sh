#!/bin/sh
# steer.sh: steering a headless training from another process through the run store.
#  1. A background `dllab train --no-tui`; `dllab steer` freeze, unfreeze and lr LO..HI are
#     applied (exit 0) at a batch, recorded as events with origin "cli" at that step, and the
#     per-group lrs after the lr command are the ones asked (1e-5, 1e-4, 1e-3, then the schedule
#     keeps their ratios); a bad word or lr is a usage error (2); a stopped run answers 3 to
#     steer and to attach.
#  2. A command written while the trainer is frozen (SIGSTOP) and then SIGKILLed is applied once
#     after --resume, and the command applied before the kill is not applied again.
# Skips (77) without the fashion-mnist files.
. "${srcdir:-.}/tests/cli-lib.sh"
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ] ||
    { echo "SKIP: the fashion-mnist files are not installed"; exit 77; }
runs=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$runs"; }
trap cleanup EXIT INT TERM
export DLLAB_TEST=1

# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
    n=$(($1 * 10)); shift
    while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
running() { "$bin" runs --runs "$runs" 2>/dev/null | grep -q "$1 .* running"; }
has_batches() { [ "$(export_csv "$1"; tail -n +2 "$runs/exp/$1/batches.csv" 2>/dev/null | wc -l)" -ge "$2" ]; }
export_csv() { rm -rf "$runs/exp"; "$bin" export --runs "$runs" "$1" --csv "$runs/exp" >/dev/null 2>&1; }
epochs_done() { export_csv "$1"; [ "$(tail -n +2 "$runs/exp/$1/epochs.csv" 2>/dev/null | wc -l)" -ge "$2" ]; }
events() { export_csv "$1"; cat "$runs/exp/$1/events.csv" 2>/dev/null; }

# ---- 1. steering a headless run ----
"$bin" train fashion-mnist --limit 320 --valid-limit 64 --epochs 200 --no-tui --runs "$runs" \
    >"$runs/a.log" 2>&1 &
pids="$pids $!"
run=fmnist-resnet-xs-1
wait_for 120 has_batches $run 2 || { echo "FAIL: the training never logged batches"; cat "$runs/a.log"; exit 1; }
check steer-usage 2 "unknown steering command 'warp'" -- steer --runs "$runs" $run warp
check steer-bad-lr 2 "cannot read learning rate" -- steer --runs "$runs" $run lr fast
check steer-freeze 0 "applied freeze to run $run at step [0-9]+" -- steer --runs "$runs" $run freeze
check steer-unfreeze 0 "applied unfreeze to run $run at step [0-9]+" -- steer --runs "$runs" $run unfreeze
check steer-lr 0 "applied lr 1e-05..0.001 to run $run at step [0-9]+" -- steer --runs "$runs" $run lr 1e-5..1e-3
lr_step=$(printf '%s\n' "$out" | sed -n 's/.* at step \([0-9]*\).*/\1/p')
ev=$(events $run)
for pat in '^[0-9]+,[0-9]+,[0-9.]+,freeze,.*frozen_to"":2.*origin"":""cli' \
    '^[0-9]+,[0-9]+,[0-9.]+,unfreeze,.*frozen_to"":0.*origin"":""cli' \
    "^[0-9]+,$lr_step,[0-9.]+,lr-change,.*set 1e-05..0.001.*lr\"\":\\[1e-05,0.0001,0.001\\].*origin\"\":\"\"cli"; do
    if printf '%s\n' "$ev" | grep -qE -- "$pat"; then echo "ok   event /$pat/"; else
        echo "FAIL: no event /$pat/"; printf '%s\n' "$ev"; fail=1; fi
done
# the batches trained after the lr change keep the groups at 1:10:100 (the schedule moves all)
wait_for 60 has_batches $run $((lr_step + 3))
ratios=$(awk -F, -v s="$lr_step" 'NR > 1 && $1 > s + 0 && $1 <= s + 2 {
    printf "%.3f %.3f\n", $4 / $3, $5 / $4 }' "$runs/exp/$run/batches.csv")
if [ -n "$ratios" ] && ! printf '%s\n' "$ratios" | grep -vq '^10.000 10.000$'; then
    echo "ok   lrs after the change: 1:10:100"
else
    echo "FAIL: per-group lrs after lr 1e-5..1e-3: '$ratios'"; fail=1
fi
check steer-stop 0 "applied stop-now" -- steer --runs "$runs" $run stop-now
wait_for 60 sh -c "! '$bin' runs --runs '$runs' | grep -q '$run .* running'"
check steer-not-running 3 "run $run is not training \\(stopped\\)" -- steer --runs "$runs" $run unfreeze
check attach-not-running 3 "not training \\(stopped\\)" -- attach --runs "$runs" $run

# ---- 2. a command across a SIGKILL ----
"$bin" train fashion-mnist --limit 256 --valid-limit 64 --epochs 200 --no-tui --runs "$runs" \
    >"$runs/b.log" 2>&1 &
pid=$!
pids="$pids $pid"
run=fmnist-resnet-xs-2
wait_for 180 epochs_done $run 1 || { echo "FAIL: no epoch finished"; cat "$runs/b.log"; exit 1; }
check kill-applied-before 0 "applied freeze" -- steer --runs "$runs" $run freeze
kill -STOP $pid
check kill-queued 0 "queued lr-scale 0.5" -- steer --runs "$runs" --no-wait $run lr-scale 0.5
kill -KILL $pid
kill -CONT $pid 2>/dev/null
wait $pid 2>/dev/null
# a run whose process is gone is never attachable, nor steerable
check kill-attach-dead 3 "not training \\(crashed\\)" -- attach --runs "$runs" $run
check kill-steer-dead 3 "not training \\(crashed\\)" -- steer --runs "$runs" $run unfreeze
"$bin" train --resume $run --no-tui --runs "$runs" >"$runs/c.log" 2>&1 &
pids="$pids $!"
wait_for 120 sh -c "'$bin' export --runs '$runs' $run --csv '$runs/exp2' >/dev/null 2>&1 &&
    grep -q 'scale 0.5' '$runs/exp2/$run/events.csv'; rc=\$?; rm -rf '$runs/exp2'; exit \$rc" ||
    { echo "FAIL: the queued command never applied after --resume"; cat "$runs/c.log"; fail=1; }
check kill-stop 0 "applied stop-now" -- steer --runs "$runs" $run stop-now
wait_for 60 sh -c "! '$bin' runs --runs '$runs' | grep -q '$run .* running'"
ev=$(events $run)
n_scale=$(printf '%s\n' "$ev" | grep -c 'scale 0.5.*origin"":""cli')
n_freeze=$(printf '%s\n' "$ev" | grep -c ',freeze,.*origin"":""cli')
if [ "$n_scale" = 1 ] && [ "$n_freeze" = 1 ]; then
    echo "ok   after SIGKILL + --resume: the queued command applied once, the earlier one not again"
else
    echo "FAIL: scale events $n_scale, freeze events $n_freeze (want 1 and 1)"; printf '%s\n' "$ev"; fail=1
fi
exit $fail
