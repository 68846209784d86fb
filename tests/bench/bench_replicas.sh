#!/bin/sh
# Data-parallel throughput: dllab with 1 and 2 replicas and with `mpirun -np 2` (1 replica per
# rank), beside PyTorch (bench_train_torch.py, the same models and step) at 1 and 2 threads with
# OMP_WAIT_POLICY=PASSIVE, alternating all five in every round. First (and last) a 1- vs 2-thread
# FMA probe says how many real cores the vCPUs give; the CPU model and the load average are
# printed beside each block, and CPU-time figures (cpu_img/s) beside the wall-clock ones, since
# other tenants share the machine. The dllab lines carry the step split: compute, the replicas'
# gradient reduce and the all-reduce wait (MPI). Medians over ROUNDS rounds.
# Usage: make bench && sh tests/bench/bench_replicas.sh [ROUNDS]   (from the build folder)
# MODELS narrows the sweep (default "resnet-xs resnet18": b128@28 and b64@64).
set -u
rounds=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_REPLICAS:-./tests/bench/bench_replicas}
py=/usr/bin/python3
[ -x "$bin" ] || { echo "bench_replicas.sh: build it first: make bench" >&2; exit 1; }
have_torch=1
$py -c 'import torch, torchvision' 2>/dev/null || { have_torch=0; echo "(PyTorch missing: apt-get install python3-torch python3-torchvision; its columns are skipped)"; }
have_mpi=1
command -v mpirun >/dev/null 2>&1 || have_mpi=0
# Open MPI refuses root without these; set for its command only
mpirun_cmd="mpirun --oversubscribe -np 2"
[ "$(id -u)" = 0 ] && mpirun_cmd="env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 $mpirun_cmd"
med() { sort -n | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : 0)}'; }
col() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p"; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_replicas-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null)"
echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) vCPUs online"
echo "load: $(uptime | sed 's/.*load average: //')"
echo "probe: $("$bin" --fma)"
for model in ${MODELS:-resnet-xs resnet18}; do
    for k in r1 r2 mpi t1 t2; do : > "$tmp/$k"; : > "$tmp/$k.cpu"; : > "$tmp/$k.comm"; done
    echo "$model: load before $(uptime | sed 's/.*load average: //')"
    r=1
    while [ "$r" -le "$rounds" ]; do
        line=$("$bin" --model $model --replicas 1); echo "  $line"
        echo "$line" | col 'img/s' >> "$tmp/r1"; echo "$line" | col 'cpu_img/s' >> "$tmp/r1.cpu"
        line=$("$bin" --model $model --replicas 2); echo "  $line"
        echo "$line" | col 'img/s' >> "$tmp/r2"; echo "$line" | col 'cpu_img/s' >> "$tmp/r2.cpu"
        echo "$line" | col 'reduce_ms' >> "$tmp/r2.comm"
        if [ $have_mpi = 1 ]; then
            line=$($mpirun_cmd "$bin" --model $model --replicas 1 2>&1 | grep '^dllab'); echo "  $line"
            echo "$line" | col 'img/s' >> "$tmp/mpi"; echo "$line" | col 'cpu_img/s' >> "$tmp/mpi.cpu"
            echo "$line" | col 'allreduce_ms' >> "$tmp/mpi.comm"
        fi
        if [ $have_torch = 1 ]; then
            for t in 1 2; do
                line=$(OMP_WAIT_POLICY=PASSIVE $py "$here/bench_train_torch.py" --model $model --threads $t); echo "  $line"
                echo "$line" | col 'img/s' >> "$tmp/t$t"; echo "$line" | col 'cpu_img/s' >> "$tmp/t$t.cpu"
            done
        fi
        r=$((r + 1))
    done
    r1=$(med < "$tmp/r1"); r2=$(med < "$tmp/r2"); mp=$(med < "$tmp/mpi"); t1=$(med < "$tmp/t1"); t2=$(med < "$tmp/t2")
    best2=$(echo "$t1 $t2" | awk '{print ($2 > $1 ? $2 : $1)}')
    echo "$model: load after $(uptime | sed 's/.*load average: //')"
    echo "$model img/s (median of $rounds): dllab 1 replica $r1, 2 replicas $r2, mpirun -np 2 $mp;" \
        "PyTorch 1 thread $t1, 2 threads $t2"
    echo "$model ratios: 2 replicas / 1 = $(echo "$r2 $r1" | awk '{printf "%.2f", $2 ? $1/$2 : 0}')," \
        "mpirun / 1 = $(echo "$mp $r1" | awk '{printf "%.2f", $2 ? $1/$2 : 0}')," \
        "2 replicas / PyTorch best = $(echo "$r2 $best2" | awk '{printf "%.2f", $2 ? $1/$2 : 0}')"
    echo "$model cpu_img/s: dllab 1 replica $(med < "$tmp/r1.cpu"), 2 replicas $(med < "$tmp/r2.cpu")," \
        "mpirun $(med < "$tmp/mpi.cpu"); PyTorch 1 thread $(med < "$tmp/t1.cpu"), 2 threads $(med < "$tmp/t2.cpu")"
    echo "$model gradient sums per step: replicas reduce $(med < "$tmp/r2.comm") ms, MPI all-reduce wait $(med < "$tmp/mpi.comm") ms"
done
echo "probe after: $("$bin" --fma)"
