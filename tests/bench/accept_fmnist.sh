#!/bin/sh
# Acceptance run 1: Fashion-MNIST, resnet-xs, fit_one_cycle for EPOCHS (1) epoch(s),
# dllab then PyTorch CPU (accept_fmnist_torch.py) in the same invocation, one after the other.
# Both: train = the 60k training set, valid = t10k, no augmentation, batch BS (128), one learning
# rate LR (3e-3) for every parameter group (dllab --lr =LR), fastai's Adam (wd 0.01, none on BN and
# biases), fastai's one-cycle schedule, avgpool + linear head (dllab --head torchvision), 1 thread
# (dllab --threads 1, torch.set_num_threads(1), OMP_WAIT_POLICY=PASSIVE), under nice -n 10.
# Prints dllab's epoch table, torch's line, then a summary: test accuracy and wall time of each,
# and whether the issue's target holds (dllab >= 0.88 and within 1 point of PyTorch).
# Usage (from the build folder after `make src/dllab`; SRC = the source tree):
#   sh SRC/tests/bench/accept_fmnist.sh [--limit N --valid-limit N]   (extra args go to both)
# Env: DLLAB (./src/dllab), RUNS (run store, default ./accept-runs), EPOCHS, BS, LR, SEED.
# The dllab run is named accept-fmnist-N: accept_transfer.sh uses it as the pretrained body.
# Measured 2026-11-28 (2 shared cores, load 3-7 from other builds; defaults): dllab acc 0.8998
# (valid_loss 0.2799, wall 798 s), PyTorch 2.x acc 0.8980 (valid_loss 0.2813, wall 414 s): target met,
# +0.18 points. The wall times are not comparable (dllab ran under heavier load, ~46 % of a core);
# the CPU column was added afterwards, see accept_mosaic.sh and bench_train.sh for throughput.
#
# CONFIG=default: the configuration users run instead, side by side: `dllab train fashion-mnist
# --epochs EPOCHS --no-tui` exactly as the README shows it (fastai head, batch 64, lr 1e-3,
# augmentation on, threads = every core) against accept_fmnist_torch.py --head fastai --bs 64
# --lr 1e-3 --threads 1 (no augmentation: the twin does less work). ROUNDS (1) rounds, dllab and
# PyTorch alternating; per run the whole process's wall and CPU time (user + sys) and the test
# accuracy; then medians and the ratios dllab / PyTorch, with the CPU model, kernel, OpenBLAS
# kernel variable and load before and after. Extra args (e.g. --limit 5000) go to both. NICE (10):
# the niceness both run at.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dllab=${DLLAB:-./src/dllab}
runs=${RUNS:-./accept-runs}
epochs=${EPOCHS:-1}; bs=${BS:-128}; lr=${LR:-3e-3}; seed=${SEED:-42}
py=/usr/bin/python3
if ! $py -c 'import torch' 2>/dev/null; then
    echo "accept_fmnist.sh: PyTorch is missing: apt-get install python3-torch" >&2
    exit 1
fi
[ -x "$dllab" ] || { echo "accept_fmnist.sh: $dllab not found (make src/dllab, or set DLLAB)" >&2; exit 1; }
export OMP_WAIT_POLICY=PASSIVE
out=$(mktemp); tf=$(mktemp)
trap 'rm -f "$out" "$tf"' EXIT

now() { date +%s.%N; }
# CPU seconds (user + sys) of finished children: `times` must run in this shell (not in $(...)).
mark() { times > "$tf"; }
cpu() { awk 'NR == 2 {split($1, u, "m"); split($2, s, "m"); printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$tf"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
if [ "${CONFIG:-}" = default ]; then
    rounds=${ROUNDS:-1}
    echo "accept_fmnist default config: $(date -u '+%F %T') UTC, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
         "kernel $(uname -r), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, load $(cut -d' ' -f1-3 /proc/loadavg)," \
         "$("$dllab" --version 2>&1 | head -1)"
    dw=""; dc=""; da=""; tw=""; tc=""; ta=""
    r=0
    while [ "$r" -lt "$rounds" ]; do
        r=$((r + 1))
        mark; c0=$(cpu); t0=$(now)
        nice -n "${NICE:-10}" "$dllab" train fashion-mnist --epochs "$epochs" --no-tui --runs "$runs" \
            --name accept-fmnist-default "$@" > "$out" 2>&1
        rc=$?
        t1=$(now); mark; c1=$(cpu)
        [ "$rc" -eq 0 ] || { cat "$out"; echo "accept_fmnist.sh: dllab train failed ($rc)" >&2; exit 1; }
        # last epoch row: epoch train_loss valid_loss error_rate time
        a=$(awk '$1 ~ /^[0-9]+$/ && NF == 5 {e = $4} END {printf "%.4f", 1 - e}' "$out")
        w=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'); c=$(echo "$c0 $c1" | awk '{printf "%.1f", $2 - $1}')
        echo "round $r dllab:   acc $a wall ${w}s cpu ${c}s (load $(cut -d' ' -f1 /proc/loadavg))"
        dw="$dw $w"; dc="$dc $c"; da="$da $a"
        mark; c0=$(cpu); t0=$(now)
        nice -n "${NICE:-10}" $py "$here/accept_fmnist_torch.py" --head fastai --epochs "$epochs" --bs 64 --lr 1e-3 \
            --seed "$seed" --threads 1 "$@" > "$out" 2>&1
        t1=$(now); mark; c1=$(cpu)
        a=$(sed -n 's/.* acc=\([0-9.]*\).*/\1/p' "$out")
        [ -n "$a" ] || { cat "$out"; echo "accept_fmnist.sh: the torch run failed" >&2; exit 1; }
        w=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'); c=$(echo "$c0 $c1" | awk '{printf "%.1f", $2 - $1}')
        echo "round $r PyTorch: acc $a wall ${w}s cpu ${c}s (load $(cut -d' ' -f1 /proc/loadavg))"
        tw="$tw $w"; tc="$tc $c"; ta="$ta $a"
    done
    mdw=$(echo "$dw" | median); mdc=$(echo "$dc" | median); mda=$(echo "$da" | median)
    mtw=$(echo "$tw" | median); mtc=$(echo "$tc" | median); mta=$(echo "$ta" | median)
    echo "medians of $rounds: dllab acc $mda wall ${mdw}s cpu ${mdc}s | PyTorch acc $mta wall ${mtw}s cpu ${mtc}s"
    echo "$mdw $mtw $mdc $mtc $mda $mta" | awk '{printf "dllab / PyTorch: wall %.2f, CPU %.2f (the issue asks wall <= 0.75); accuracy %+.2f points (within 1: %s)\n", $1 / $2, $3 / $4, 100 * ($5 - $6), ($5 - $6 <= 0.01 && $6 - $5 <= 0.01) ? "yes" : "NO"}'
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); wall times on a shared machine measure the other tenants too: compare the CPU ratio"
    exit 0
fi

mark; c0=$(cpu); t0=$(now)
nice -n 10 "$dllab" train fashion-mnist --arch resnet-xs --head torchvision --no-aug --epochs "$epochs" \
    --bs "$bs" --lr "=$lr" --seed "$seed" --metric accuracy --threads 1 --no-tui --runs "$runs" \
    --name accept-fmnist "$@" | tee "$out"
rc=$?
t1=$(now); mark; c1=$(cpu)
[ "$rc" -eq 0 ] || { echo "accept_fmnist.sh: dllab train failed ($rc)" >&2; exit 1; }
# last epoch row: epoch train_loss valid_loss accuracy time
d_acc=$(awk '$1 ~ /^[0-9]+$/ && NF == 5 {a = $4} END {print a}' "$out")
d_wall=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'); d_cpu=$(echo "$c0 $c1" | awk '{printf "%.1f", $2 - $1}')

mark; c0=$(cpu); t0=$(now)
nice -n 10 $py "$here/accept_fmnist_torch.py" --epochs "$epochs" --bs "$bs" --lr "$lr" --seed "$seed" \
    --threads 1 "$@" | tee "$out"
t1=$(now); mark; c1=$(cpu)
t_acc=$(sed -n 's/.* acc=\([0-9.]*\).*/\1/p' "$out")
t_wall=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'); t_cpu=$(echo "$c0 $c1" | awk '{printf "%.1f", $2 - $1}')
[ -n "$t_acc" ] || { echo "accept_fmnist.sh: the torch run failed" >&2; exit 1; }

echo "fashion-mnist resnet-xs one-cycle epochs=$epochs bs=$bs lr=$lr: dllab acc $d_acc wall ${d_wall}s cpu ${d_cpu}s," \
     "PyTorch acc $t_acc wall ${t_wall}s cpu ${t_cpu}s"
echo "$d_acc $t_acc" | awk '{ok = $1 >= 0.88 && $1 >= $2 - 0.01
    printf "target (dllab >= 0.88, within 1 point of PyTorch): %s (difference %+.2f points)\n", ok ? "met" : "MISSED", 100 * ($1 - $2)}'
