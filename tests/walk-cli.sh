#!/bin/sh
# walk-cli.sh: what a new user walking through fastbook's chapters 5-6 with dllab meets on the
# command line: typo hints, CSV rows naming missing files, interpret/predict options, the headless
# progress line, lrfind runs listed as their own kind, compare/show wording.
. "${srcdir:-.}/tests/cli-lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/dllab-walk-XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
has_fmnist() {
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
        [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ]
}

# A misspelt built-in data set or folder gets the near name (edit distance).
check typo-builtin 1 'fashion-mnsit: no such folder; did you mean fashion-mnist\?' -- \
    train fashion-mnsit --no-tui --runs "$W/runs"
mkdir -p "$W/pets"
check typo-folder 1 'pest: no such folder; did you mean .*pets\?' -- \
    train "$W/pest" --no-tui --runs "$W/runs"
check typo-none 1 'zzzzqq: no such folder$' -- train "$W/zzzzqq" --no-tui --runs "$W/runs"

exit $fail
