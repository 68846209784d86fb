#!/bin/sh
# gemm-isa.sh: the conv finite-difference, PyTorch-parity, fused-op and model suites once per
# instruction set of dllab's gemm this CPU supports (DLLAB_GEMM_ISA forces the path, and with it
# dllab's gemm for every conv product); the ISAs it lacks are skipped with a message. The conv
# suites run a second time with every 3x3 stride-1 conv forced onto Winograd
# (DLLAB_CONV_ALGO=winograd), whatever the per-shape rule would pick.
# Exit: 0 all ran paths passed, 1 a failure, 77 (skip) never (portable always runs).
set -u
top=${top_builddir:-.}
status=0
for isa in portable avx2 avx512; do
    if ! "$top/tests/gemm_isa_probe" "$isa"; then
        echo "gemm-isa: $isa: not supported by this CPU: skipped"
        continue
    fi
    for suite in check_ops_grad check_ops_parity check_ops_fused check_models; do
        if DLLAB_GEMM_ISA=$isa CK_VERBOSITY=minimal "$top/tests/$suite" > "$top/tests/gemm-isa-$suite.out" 2>&1; then
            echo "gemm-isa: $isa: $suite passed"
        else
            echo "gemm-isa: $isa: $suite FAILED:"
            cat "$top/tests/gemm-isa-$suite.out"
            status=1
        fi
    done
    for suite in check_ops_grad check_ops_parity check_ops_winograd check_models; do
        if DLLAB_CONV_ALGO=winograd DLLAB_GEMM_ISA=$isa CK_VERBOSITY=minimal "$top/tests/$suite" > "$top/tests/gemm-isa-$suite.out" 2>&1; then
            echo "gemm-isa: $isa: $suite with Winograd passed"
        else
            echo "gemm-isa: $isa: $suite with Winograd FAILED:"
            cat "$top/tests/gemm-isa-$suite.out"
            status=1
        fi
    done
done
exit $status
