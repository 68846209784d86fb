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
# The kernel: one the user pinned through OPENBLAS_CORETYPE is theirs (reported as such, never
# re-executed over); one OpenBLAS or dllab chose must not be weaker than the CPU allows.
version=$("$bin" --version)
best=$(printf '%s\n' "$version" | sed -n 's/^cpu: best vector kernel //p')
kernel_line=$(printf '%s\n' "$version" | sed -n 's/^blas: OpenBLAS, kernel //p')
kernel=${kernel_line%% *}
rank() {
    case "$1" in
        Haswell|Zen) echo 2;;
        SkylakeX|Cooperlake|SapphireRapids) echo 3;;
        "none above SSE"|"") echo 0;;
        *) echo 1;;
    esac
}
if [ -n "${OPENBLAS_CORETYPE-}" ]; then
    case "$kernel_line" in
        *"OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE set by the user"*) echo "ok   blas kernel $kernel_line";;
        *) echo "FAIL blas: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is the user's, but --version says: $kernel_line"; fail=1;;
    esac
    if [ "$(rank "$kernel")" -lt "$(rank "$best")" ]; then
        case "$kernel_line" in
            *"this CPU supports $best"*) echo "ok   blas hint: the CPU supports $best";;
            *) echo "FAIL blas: no hint that this CPU supports $best: $kernel_line"; fail=1;;
        esac
    fi
elif [ "$(rank "$kernel")" -lt "$(rank "$best")" ]; then
    echo "FAIL blas: CPU supports $best, kernel is $kernel ($kernel_line)"; fail=1
else
    echo "ok   blas kernel $kernel_line on a CPU whose best is $best"
fi
# The re-execution path: pretend OpenBLAS chose its SSE3 kernel on a CPU that can do better. It
# needs OPENBLAS_CORETYPE unset, and a value the environment set is never touched by the tests.
if [ -n "${OPENBLAS_CORETYPE-}" ]; then
    echo "skip blas-reexec: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is set by the environment (the re-execution path is covered by check_core's decision test)"
elif [ "$(rank "$best")" -ge 2 ]; then
    DLLAB_ASSUME_BLAS_CORE=Prescott; export DLLAB_ASSUME_BLAS_CORE
    check blas-reexec 0 "kernel $best \\(OpenBLAS chose Prescott; dllab set OPENBLAS_CORETYPE=$best" -- --version
    unset DLLAB_ASSUME_BLAS_CORE
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
