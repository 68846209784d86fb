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


if ! has_fmnist; then
    echo "skip the trained-run checks: the fashion-mnist files are missing"
    exit $fail
fi
# One small single-label run and one multi-label run serve the checks below.
R="$W/runs"
"$bin" train fashion-mnist --limit 256 --valid-limit 64 --epochs 2 --runs "$R" --no-tui \
    >"$W/train.out" 2>&1 || { echo "FAIL training the fixture run:"; cat "$W/train.out"; exit 1; }
"$bin" train fashion-mosaic --mosaic-train 64 --mosaic-valid 32 --epochs 1 --runs "$R" --no-tui \
    >"$W/mosaic.out" 2>&1 || { echo "FAIL training the multi-label run:"; cat "$W/mosaic.out"; exit 1; }
IMG=${srcdir:-.}/tests/fixtures/pixels/grey-31x25.jpg

# interpret says which weights it used, takes --checkpoint and --no-tui like every command.
check interpret-says-best 0 '^interpretation of 64 validation items, best checkpoint.*\(epoch [01]\):' -- \
    interpret fmnist-resnet-xs-1 --runs "$R" --no-tui
check interpret-last 0 '^interpretation of 64 validation items, last checkpoint \(epoch 1\):' -- \
    interpret fmnist-resnet-xs-1 --runs "$R" --no-tui --checkpoint last
check interpret-epoch 0 '^interpretation of 64 validation items, checkpoint epoch-0:' -- \
    interpret fmnist-resnet-xs-1 --runs "$R" --checkpoint epoch-0
check interpret-bad-checkpoint 2 "--checkpoint 'newest': expected best, last or epoch-K" -- \
    interpret fmnist-resnet-xs-1 --runs "$R" --checkpoint newest
# predict: --no-tui accepted; single- and multi-label print one format, "PATH: class p, class p".
check predict-single 0 "^.*grey-31x25.jpg: [A-Za-z/ -]+ 0\.[0-9]{4}, [A-Za-z/ -]+ 0\.[0-9]{4}, [A-Za-z/ -]+ 0\.[0-9]{4}$" -- \
    predict fmnist-resnet-xs-1 "$IMG" --runs "$R" --no-tui --checkpoint last
check predict-multi 0 "^.*grey-31x25.jpg: [a-z_]+ 0\.[0-9]{4}(, [a-z_]+ 0\.[0-9]{4})*$" -- \
    predict fmosaic-resnet-xs-1 "$IMG" --runs "$R" --no-tui --thresh 0.01
check predict-multi-none 0 "grey-31x25.jpg: \(no label above 1\.00\)$" -- \
    predict fmosaic-resnet-xs-1 "$IMG" --runs "$R" --thresh 1

# lrfind makes a run of kind lrfind, listed as such (no "0 epochs finished" training) and
# filterable with --kind.
"$bin" lrfind fashion-mnist --limit 256 --valid-limit 64 --num-it 12 --bs 16 --runs "$R" --no-tui \
    >"$W/lrfind.out" 2>&1 || { echo "FAIL lrfind:"; cat "$W/lrfind.out"; fail=1; }
check runs-kind-column 0 '^fmnist-resnet-xs-2 +lrfind .* resnet-xs +- +- +- +finished' -- runs --runs "$R"
check runs-kind-lrfind 0 '^fmnist-resnet-xs-2 +lrfind ' -- runs --runs "$R" --kind lrfind
if "$bin" runs --runs "$R" --kind lrfind | grep -q 'fmnist-resnet-xs-1 '; then
    echo "FAIL runs-kind-lrfind: lists the training"; fail=1
fi
if "$bin" runs --runs "$R" --kind train | grep -q 'fmnist-resnet-xs-2 '; then
    echo "FAIL runs-kind-train: lists the finder sweep"; fail=1
else
    echo "ok   runs-kind-train"
fi
check runs-kind-json 0 '"kind": "lrfind"' -- runs --runs "$R" --json --kind lrfind
check runs-kind-bad 2 "--kind 'sweep': expected train or lrfind" -- runs --runs "$R" --kind sweep

# compare --no-tui: every figure row's cells start in the header's columns (the metric names of
# multi-label runs are longer than the old key column), and a missing figure is "-", never "- @1".
cmp=$("$bin" compare fmnist-resnet-xs-1 fmosaic-resnet-xs-1 --runs "$R" --no-tui --baseline fmnist-resnet-xs-1 2>&1)
col=$(printf '%s\n' "$cmp" | head -1 | awk '{ print index($0, "fmosaic-resnet-xs-1") }')
bad=$(printf '%s\n' "$cmp" | awk -v c="$col" '/^(best|final) / && (substr($0, c - 1, 1) != " " || substr($0, c, 1) == " ") { print }')
if [ -z "$col" ] || [ "$col" = 0 ] || [ -n "$bad" ] || printf '%s' "$cmp" | grep -q -- '- @'; then
    echo "FAIL compare-aligned: column $col, misaligned rows: $bad"; printf '%s\n' "$cmp"; fail=1
else
    echo "ok   compare-aligned"
fi
check compare-multi-row 0 '^best accuracy_multi +- +0\.[0-9]{4} @0' -- \
    compare fmnist-resnet-xs-1 fmosaic-resnet-xs-1 --runs "$R" --no-tui
# show names the resize method of the image preparation.
check show-resize-name 0 '"resize": "crop",' -- show fmnist-resnet-xs-1 --runs "$R" --no-tui
if "$bin" show fmnist-resnet-xs-1 --runs "$R" --no-tui | grep -q '"resize": [0-9]'; then
    echo "FAIL show-resize-name: a number is still printed"; fail=1
fi

# Headless training on a terminal redraws a progress line in place (batch, loss, img/s, ETA, then
# the validation pass); without a terminal the output is the table alone, no \r.
if command -v script >/dev/null 2>&1; then
    script -qc "$bin train fashion-mnist --limit 256 --valid-limit 96 --bs 32 --epochs 1 --runs $R --no-tui" \
        /dev/null >"$W/tty.out" 2>&1
    cr=$(printf '\r')
    # (the validation pass's "valid k/3" line is drawn too, but a fast machine may finish the
    # pass between two redraws: only the batch line is certain)
    if grep -q "${cr}  batch [0-9]*/8  loss [0-9.]*  [0-9]* img/s  ETA " "$W/tty.out" &&
        grep -q "${cr}$(printf '\033')\[K0  " "$W/tty.out"; then
        echo "ok   progress-line-on-a-terminal"
    else
        echo "FAIL progress-line-on-a-terminal:"; cat -A "$W/tty.out" | head -5; fail=1
    fi
else
    echo "skip progress-line-on-a-terminal: no script(1) to make a terminal"
fi
"$bin" train fashion-mnist --limit 64 --valid-limit 32 --bs 32 --epochs 1 --runs "$R" --no-tui >"$W/plain.out" 2>&1
if grep -q "$(printf '\r')" "$W/plain.out" || ! grep -q '^0  ' "$W/plain.out"; then
    echo "FAIL progress-plain: a \\r or no table row without a terminal"; cat -A "$W/plain.out"; fail=1
else
    echo "ok   progress-plain"
fi

# A training stopped after an epoch (Ctrl-C) still ends with the interpretation of its best epoch
# (from that epoch's validation pass): the confusion figure can be exported at once.
"$bin" train fashion-mnist --limit 256 --valid-limit 64 --epochs 30 --name stopme --runs "$R" --no-tui \
    >"$W/stop.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -q '^0  ' "$W/stop.out"; do sleep 0.2; i=$((i + 1)); done
kill -INT $pid 2>/dev/null
wait $pid
if grep -q 'interpretation (best epoch 0) saved; most confused:' "$W/stop.out" &&
    "$bin" export stopme-1 --runs "$R" --plot confusion --csv "$W/cm" >/dev/null 2>&1 &&
    [ -s "$W/cm/confusion.csv" ]; then
    echo "ok   interpretation-after-stop"
else
    echo "FAIL interpretation-after-stop:"; cat "$W/stop.out"; fail=1
fi
check interpretation-event 0 'interpretation +\{"text":"of the best epoch 0 saved' -- show stopme-1 --runs "$R" --no-tui

exit $fail
