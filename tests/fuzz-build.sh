#!/bin/sh
# make check: builds every libFuzzer target (`make fuzz-build`) and runs each once over its
# committed seeds, so that `make fuzz` cannot stop linking (or a seed start crashing) unnoticed.
# Long fuzzing stays in `make fuzz`. Skips with the reason when clang or its libFuzzer and
# sanitizer runtimes are missing.
top=${top_srcdir:-$(dirname "$0")/..}
build=${top_builddir:-.}
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "SKIP: $cc not found; the libFuzzer targets need clang (apt-get install clang)"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
    >"$tmp/t.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >"$tmp/log" 2>&1; then
    echo "SKIP: $cc cannot link -fsanitize=fuzzer,address,undefined" \
        "(libFuzzer or sanitizer runtime missing):"
    head -5 "$tmp/log"
    exit 77
fi
# MAKEFLAGS from the calling make would hand over its job server; a plain sub-make is enough.
env -u MAKEFLAGS -u MFLAGS make -s -C "$build" fuzz-build FUZZ_CC="$cc" || {
    echo "FAIL: make fuzz-build"
    exit 1
}
status=0
for f in "$build"/fuzz/fuzz_*; do
    t=${f##*/fuzz_}
    if [ ! -d "$top/tests/fuzz/seeds/$t" ]; then
        echo "FAIL: fuzz_$t has no seeds in tests/fuzz/seeds/$t"
        status=1
        continue
    fi
    if UBSAN_OPTIONS=halt_on_error=1 "$f" -runs=0 -rss_limit_mb=2048 "$top/tests/fuzz/seeds/$t" \
        >"$tmp/$t.log" 2>&1; then
        echo "fuzz_$t: built; $(ls "$top/tests/fuzz/seeds/$t" | wc -l) seeds run clean"
    else
        echo "FAIL: fuzz_$t on its seeds:"
        tail -30 "$tmp/$t.log"
        status=1
    fi
done
exit $status
