#!/bin/sh
# Acceptance run 2: fashion-mosaic (multi-label, 2000 train / 500 valid 64x64 mosaics),
# resnet-xs, fit_one_cycle for EPOCHS (4) epochs, dllab then PyTorch CPU (accept_mosaic_torch.py,
# reading the very mosaic files dllab generated) in the same invocation, one after the other.
# Both: no augmentation, batch BS (64), one learning rate LR (3e-3) for every group, fastai's
# Adam and one-cycle, avgpool + linear head (dllab --head torchvision), BCE-with-logits, 1 thread
# (OMP_WAIT_POLICY=PASSIVE), under nice -n 10. dllab's micro-F1 comes from `dllab interpret` on
# the last epoch's checkpoint. Prints both runs, then a summary line: accuracy_multi and micro-F1
# at threshold 0.5 and the wall time of each.
# Usage (from the build folder after `make src/dllab`; SRC = the source tree):
#   sh SRC/tests/bench/accept_mosaic.sh [--limit N --valid-limit N]   (extra args go to both)
# Env: DLLAB (./src/dllab), RUNS (./accept-runs), CACHE (dllab's cache folder), EPOCHS, BS, LR, SEED.
# Measured 2026-11-28 (defaults, seed 42): dllab accuracy_multi 0.8906, micro-F1 0.6331, valid_loss
# 0.2667, cpu 316 s; PyTorch accuracy_multi 0.8742, micro-F1 0.5689, valid_loss 0.2803, cpu 287 s.
# (Both leave recall on the table at 0.5 after 4 epochs: dllab's threshold sweep finds micro-F1
# 0.7384 at 0.31.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
dllab=${DLLAB:-./src/dllab}
runs=${RUNS:-./accept-runs}
cache=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dllab}
epochs=${EPOCHS:-4}; bs=${BS:-64}; lr=${LR:-3e-3}; seed=${SEED:-42}
py=/usr/bin/python3
if ! $py -c 'import torch, PIL' 2>/dev/null; then
    echo "accept_mosaic.sh: PyTorch or Pillow is missing: apt-get install python3-torch python3-pil" >&2
    exit 1
fi
[ -x "$dllab" ] || { echo "accept_mosaic.sh: $dllab not found (make src/dllab, or set DLLAB)" >&2; exit 1; }
export OMP_WAIT_POLICY=PASSIVE
out=$(mktemp); tf=$(mktemp)
trap 'rm -f "$out" "$tf"' EXIT

now() { date +%s.%N; }
# CPU seconds (user + sys) of finished children: `times` must run in this shell (not in $(...)).
mark() { times > "$tf"; }
cpu() { awk 'NR == 2 {split($1, u, "m"); split($2, s, "m"); printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$tf"; }
# Generate the mosaic outside the timed run (a no-op once the cache folder exists).
nice -n 10 "$dllab" data fashion-mosaic --seed "$seed" --cache "$cache" > /dev/null 2>&1
mark; c0=$(cpu); t0=$(now)
nice -n 10 "$dllab" train fashion-mosaic --arch resnet-xs --head torchvision --no-aug --epochs "$epochs" \
    --bs "$bs" --lr "=$lr" --seed "$seed" --metric accuracy_multi --threads 1 --no-tui --runs "$runs" \
    --cache "$cache" --name accept-mosaic "$@" | tee "$out"
rc=$?
t1=$(now); mark; c1=$(cpu)
[ "$rc" -eq 0 ] || { echo "accept_mosaic.sh: dllab train failed ($rc)" >&2; exit 1; }
d_acc=$(awk '$1 ~ /^[0-9]+$/ && NF == 5 {a = $4} END {print a}' "$out")
d_wall=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'); d_cpu=$(echo "$c0 $c1" | awk '{printf "%.1f", $2 - $1}')
run=$(sed -n 's/^run \([^ ]*\) finished.*/\1/p' "$out")
nice -n 10 "$dllab" interpret "$run" --runs "$runs" --epoch $((epochs - 1)) --thresh 0.5 > "$out" 2>&1 ||
    { cat "$out"; echo "accept_mosaic.sh: dllab interpret $run failed" >&2; exit 1; }
grep '^micro-F1' "$out"
d_f1=$(sed -n 's/^micro-F1 \([0-9.]*\) at.*/\1/p' "$out")

dir="$cache/fashion-mosaic-s$seed-2000-500"
mark; c0=$(cpu); t0=$(now)
nice -n 10 $py "$here/accept_mosaic_torch.py" --dir "$dir" --epochs "$epochs" --bs "$bs" --lr "$lr" \
    --seed "$seed" --threads 1 "$@" | tee "$out"
t1=$(now); mark; c1=$(cpu)
t_acc=$(sed -n 's/.* acc_multi=\([0-9.]*\).*/\1/p' "$out")
t_f1=$(sed -n 's/.* micro_f1=\([0-9.]*\).*/\1/p' "$out")
t_wall=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'); t_cpu=$(echo "$c0 $c1" | awk '{printf "%.1f", $2 - $1}')
[ -n "$t_acc" ] || { echo "accept_mosaic.sh: the torch run failed" >&2; exit 1; }

echo "fashion-mosaic resnet-xs one-cycle epochs=$epochs bs=$bs lr=$lr thresh=0.5:" \
     "dllab accuracy_multi $d_acc micro-F1 $d_f1 wall ${d_wall}s cpu ${d_cpu}s; PyTorch accuracy_multi $t_acc micro-F1 $t_f1 wall ${t_wall}s cpu ${t_cpu}s"
