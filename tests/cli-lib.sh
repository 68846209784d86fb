# cli-lib.sh: what the whole-program shell checks (tests/cli.sh, tests/weights-cli.sh) share,
# sourced, never run: `bin` (the built dllab), the failure flag `fail`, and
#   check NAME EXPECTED_RC PATTERN -- ARGS...
# which runs dllab ARGS and fails NAME unless it exits EXPECTED_RC with output (stdout and stderr)
# matching the extended regex PATTERN. The caller ends with `exit $fail`.
bin=${top_builddir:-.}/src/dllab
fail=0
check() {
    name=$1 want=$2 pat=$3; shift 4
    out=$("$bin" "$@" 2>&1); rc=$?
    if [ "$rc" != "$want" ]; then echo "FAIL $name: exit $rc, want $want"; echo "$out"; fail=1; return; fi
    if ! printf '%s' "$out" | grep -qE -- "$pat"; then echo "FAIL $name: output lacks /$pat/"; echo "$out"; fail=1; return; fi
    echo "ok   $name"
}
