#!/bin/sh
# Training throughput, dllab vs PyTorch CPU (Debian python3-torch), alternating the two in one
# invocation: ROUNDS rounds per (model, threads), each round runs dllab then torch. Prints every
# line, then the median img/s of each and the ratio dllab/PyTorch (wall time, and process CPU time,
# which a shared host's time-slicing distorts less), with the load average beside each block.
# 1 thread is the primary figure. MODELS / THREADS narrow the sweep (default "resnet-xs resnet18", "1 2").
# Usage: tests/bench/bench_train.sh [ROUNDS]   (run from the build folder after `make bench`)
set -u
rounds=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_TRAIN:-./tests/bench/bench_train}
py=/usr/bin/python3
if ! $py -c 'import torch, torchvision' 2>/dev/null; then
    echo "bench_train.sh: PyTorch is missing: apt-get install python3-torch python3-torchvision" >&2
    exit 1
fi
med() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_train-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
col() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p"; }
for model in ${MODELS:-resnet-xs resnet18}; do
    for t in ${THREADS:-1 2}; do
        : > "$tmp/d"; : > "$tmp/t"; : > "$tmp/dc"; : > "$tmp/tc"
        echo "  load before: $(uptime | sed 's/.*load average: //')"
        r=1
        while [ "$r" -le "$rounds" ]; do
            # dllab is re-executed by its own BLAS selection only as the dllab binary; here the
            # benchmark leaves OpenBLAS's choice (printed as kernel=) unless OPENBLAS_CORETYPE is set.
            line=$("$bin" --model $model --threads $t); echo "  $line"
            echo "$line" | col 'img/s' >> "$tmp/d"; echo "$line" | col 'cpu_img/s' >> "$tmp/dc"
            # OMP_WAIT_POLICY=PASSIVE: torch's spinning OpenMP threads are 3-5x slower on this host
            line=$(OMP_WAIT_POLICY=PASSIVE $py "$here/bench_train_torch.py" --model $model --threads $t); echo "  $line"
            echo "$line" | col 'img/s' >> "$tmp/t"; echo "$line" | col 'cpu_img/s' >> "$tmp/tc"
            r=$((r + 1))
        done
        d=$(med < "$tmp/d"); p=$(med < "$tmp/t"); dc=$(med < "$tmp/dc"); pc=$(med < "$tmp/tc")
        echo "  load after: $(uptime | sed 's/.*load average: //')"
        echo "$model threads=$t: dllab $d img/s, PyTorch $p img/s, ratio dllab/PyTorch $(echo "$d $p" | awk '{printf "%.2f", $1/$2}')" \
            "(CPU time: dllab $dc, PyTorch $pc, ratio $(echo "$dc $pc" | awk '{printf "%.2f", $1/$2}'))"
    done
done
