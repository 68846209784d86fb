#!/bin/sh
# sanitize.sh KIND BUILD [TESTS]: builds a second tree of dllab with sanitizers and runs the suite
# there (`make check-sanitize`: KIND=asan, ASan+UBSan, every test; `make check-tsan`: KIND=tsan,
# the suites whose trainer, loader and UI threads run at once).
# The sources are copied (git ls-files, mtimes kept so rebuilds are incremental) into BUILD/src and
# configured from there: configure refuses an out-of-tree build of a source folder that is itself
# configured, and VPATH would pick the in-tree objects up as if they were this tree's.
# Every sanitizer report goes to BUILD/reports/ (stderr of dllab is often captured by a test or
# hidden in tmux); the run fails when make check fails or when any report was written.
set -eu
kind=$1
build=$2
tests=${3-}
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
case "$kind" in
asan)
    flags='-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer'
    ;;
tsan)
    flags='-O1 -g -fsanitize=thread -fno-omit-frame-pointer'
    ;;
*)
    echo "usage: sanitize.sh asan|tsan BUILD [TESTS]" >&2
    exit 2
    ;;
esac
command -v git >/dev/null || { echo "sanitize.sh: git is needed to list the sources" >&2; exit 1; }
mkdir -p "$build/src" "$build/obj"
build=$(cd "$build" && pwd)
# The source list: tracked files and new files not ignored (the work in progress is tested too).
(cd "$top" && git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - --no-recursion) |
    tar -C "$build/src" -xpf -
cd "$build/src"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ -n "$(find . -name '*.mk' -newer Makefile.in)" ]; then
    autoreconf -fi >/dev/null
fi
cd "$build/obj"
if [ ! -f config.status ] || [ "$build/src/configure" -nt config.status ]; then
    "$build/src/configure" CFLAGS="$flags" LDFLAGS="${flags#-O1 -g }" >configure.out ||
        { tail -20 configure.out; exit 1; }
fi
rm -rf "$build/reports"
mkdir -p "$build/reports"
# abort_on_error=0 and exitcode: a report makes the process fail with a code tests notice.
ASAN_OPTIONS="log_path=$build/reports/asan:detect_leaks=1:halt_on_error=1:exitcode=86"
LSAN_OPTIONS="suppressions=$build/src/tests/lsan.supp:print_suppressions=0"
UBSAN_OPTIONS="log_path=$build/reports/ubsan:print_stacktrace=1:halt_on_error=1"
TSAN_OPTIONS="log_path=$build/reports/tsan:halt_on_error=0:second_deadlock_stack=1:exitcode=86"
TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$build/src/tests/tsan.supp"
# The sanitizers slow everything 2-10x: the suites' own time limits stretch with them.
CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-5}
DLLAB_UI_WAIT_SCALE=${DLLAB_UI_WAIT_SCALE:-8}
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS CK_TIMEOUT_MULTIPLIER DLLAB_UI_WAIT_SCALE
status=0
if [ -n "$tests" ]; then
    make -j2 check TESTS="$tests" || status=$?
else
    make -j2 check || status=$?
fi
# Reports a sanitizer printed to a test's stderr instead (UBSan inside ASan's runtime does).
# Only the logs of this run's tests (older logs of other tests stay in the folder).
if [ -n "$tests" ]; then
    logs=$(for t in $tests; do echo "$t.log"; done)
else
    logs=$(ls tests/*.log tests/ui/*.log 2>/dev/null | grep -v test-suite.log)
fi
for log in $logs; do
    if grep -q -E "runtime error:|ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer" "$log" 2>/dev/null; then
        cp "$log" "$build/reports/in-$(basename "$log")"
    fi
done
reports=$(find "$build/reports" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
    echo "sanitize.sh: $reports sanitizer report(s) in $build/reports:" >&2
    for f in "$build/reports"/*; do
        echo "== $f" >&2
        head -40 "$f" >&2
    done
    status=1
fi
[ "$status" = 0 ] && echo "sanitize.sh: $kind: the suite passed with no sanitizer report"
exit "$status"
