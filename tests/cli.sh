#!/bin/sh
# Whole-program checks of dllab's command line: help, version, usage errors and exit codes.
set -u
. "$(dirname "$0")/cli-lib.sh" # bin, fail, check NAME EXPECTED_RC PATTERN -- ARGS...
check help 0 'usage: dllab' -- --help
check version 0 '^dllab [0-9]+\.[0-9]+' -- --version
check version-kernel 0 'blas: OpenBLAS, kernel [A-Za-z0-9]+' -- --version
check version-kernel-only 0 '^[A-Za-z0-9]+$' -- version --kernel
check unknown-command 2 "unknown command 'frobnicate'" -- frobnicate
check unknown-option 2 "unknown option '--frob'" -- --frob
# On a CPU with AVX2/AVX-512 dllab must not be left on a weaker OpenBLAS kernel.
best=$("$bin" --version | sed -n 's/^cpu: best vector kernel //p')
kernel=$("$bin" --version | sed -n 's/^blas: OpenBLAS, kernel \([A-Za-z0-9]*\).*/\1/p')
case "$best:$kernel" in
    SkylakeX:Prescott|SkylakeX:Haswell|Haswell:Prescott) echo "FAIL blas: CPU supports $best, kernel is $kernel"; fail=1;;
    *) echo "ok   blas kernel $kernel on a CPU whose best is $best";;
esac
# The re-execution path: pretend OpenBLAS chose its SSE3 kernel on a CPU that can do better.
if [ -n "$best" ] && [ "$best" != "none above SSE" ]; then
    saved_core=${OPENBLAS_CORETYPE-}; unset OPENBLAS_CORETYPE   # make check exports the kernel
    export DLLAB_ASSUME_BLAS_CORE=Prescott; check blas-reexec 0 "kernel $best \\(OpenBLAS chose Prescott; dllab set OPENBLAS_CORETYPE=$best" -- --version
    unset DLLAB_ASSUME_BLAS_CORE
    [ -n "$saved_core" ] && export OPENBLAS_CORETYPE="$saved_core"
fi
# show-batch's help lists its own options, not dllab train's.
check show-batch-help 0 '^  -n N ' -- show-batch --help
if "$bin" show-batch --help | grep -q -- '--epochs'; then echo "FAIL show-batch-help: lists training options"; fail=1; fi
# show-batch without a terminal prints every page, and no key bar (there are no keys to press).
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ]; then
    out=$("$bin" show-batch fashion-mnist --no-tui -n 40 --limit 64 --valid-limit 16 2>&1)
    pages=$(printf '%s\n' "$out" | grep -c 'training batch  (page [1-4]/4, 40 images)')
    if [ "$pages" != 4 ] || printf '%s' "$out" | grep -q 'q quit'; then
        echo "FAIL show-batch-no-tui: $pages of 4 pages, or a key bar:"; printf '%s\n' "$out" | head -5; fail=1
    else
        echo "ok   show-batch-no-tui"
    fi
fi
exit $fail
