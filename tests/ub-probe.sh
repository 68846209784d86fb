#!/bin/sh
# ub-probe: a UBSan finding, "load of value 64, which is not a valid value for type
# '_Bool'" (core/data/dataset.c, a flag the image probe leaves unset when it fails) made
# deterministic: dataset.c is compiled with clang's -fsanitize=bool and -ftrivial-auto-var-init=
# pattern (every uninitialised local holds 0xAA bytes, never a valid bool), linked into
# tests/ub_probe_main.c with the built engine, and run on a folder holding a text file named .jpg.
# Skips (77) when clang or pkg-config is missing.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
command -v clang >/dev/null 2>&1 || { echo "SKIP: clang is not installed"; exit 77; }
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config is not installed"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pkgs="libturbojpeg openblas sqlite3 jansson zlib libpng16 libarchive check"
cflags="-std=c11 -D_GNU_SOURCE -I$top_srcdir -I$top_builddir $(pkg-config --cflags $pkgs)"
ub="-fsanitize=bool -fno-sanitize-recover=bool"
set -e
clang $cflags -O1 $ub -ftrivial-auto-var-init=pattern -c "$top_srcdir/core/data/dataset.c" -o "$tmp/dataset.o"
for f in ub_probe_main check_data_util testutil; do
    clang $cflags -O1 -DFIXTURES_DIR="\"$top_srcdir/tests/fixtures\"" -c "$top_srcdir/tests/$f.c" -o "$tmp/$f.o"
done
clang $ub -o "$tmp/ub_probe" "$tmp/ub_probe_main.o" "$tmp/dataset.o" "$tmp/check_data_util.o" "$tmp/testutil.o" \
    "$top_builddir/core/libdlcore.a" $(pkg-config --libs $pkgs) -lm -lpthread
set +e
"$tmp/ub_probe" 2>"$tmp/err"
rc=$?
cat "$tmp/err"
if grep -q "runtime error" "$tmp/err" || [ $rc -ne 0 ]; then
    echo "FAIL: undefined behaviour while opening a data set with a non-image .jpg (exit $rc)"
    exit 1
fi
echo "ok: no undefined behaviour (exit $rc)"
exit 0
