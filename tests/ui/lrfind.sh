#!/bin/sh
# lrfind.sh: the LR finder's suggestion keys in a real terminal (tmux, private server, fixed size;
# helpers from tests/ui/lib.sh). A short finished sweep: the cursor starts on valley (marked "> v"
# in the list under the plot), v/s/m put the cursor on that suggestion and the cursor box then
# reads the very lr the list shows (minimum included: its marker is at the lowest-loss lr / 10),
# ? explains the keys, q y quits. Skips (77) without tmux or Fashion-MNIST.
set -u
TAG=tmuxlf
SOCK=dllab-l$$
. "$(dirname "$0")/lib.sh"

# listed NAME KIND: the lr the suggestion list shows for KIND ("  m minimum  3.3e-3  ...").
listed() { screen "$1" | sed -n "s/^[> ] [vsml] $2 *\\([0-9.e+-]*\\) .*/\\1/p" | head -1; }
# cursor_lr NAME: the lr in the cursor box ("lr   3.3e-3").
cursor_lr() { screen "$1" | sed -n 's/.* lr   \([0-9.e+-]*\).*/\1/p' | head -1; }

start lf 100 32 C.UTF-8 "$DLLAB lrfind fashion-mnist --limit 256 --valid-limit 64 --num-it 40"
if wait_for lf "v valley" 60 && wait_gone lf "LR finder \\(running\\)" 120; then
    wait_for lf "^> v valley"
    wait_for lf "the cursor starts at valley"
    for k in m s v; do
        case $k in m) kind=minimum ;; s) kind=steep ;; v) kind=valley ;; esac
        $T send-keys -t lf "$k"
        wait_for lf "cursor: $kind" 10 || continue
        want=$(listed lf "$kind")
        got=$(cursor_lr lf)
        if [ -z "$want" ] || [ "$want" != "$got" ]; then
            echo "FAIL: after $k the cursor reads '$got', the list says $kind '$want':"
            screen lf
            fails=$((fails + 1))
        fi
        screen lf | grep -q "^> $k $kind" ||
            { echo "FAIL: the list does not mark $kind after $k:"; screen lf; fails=$((fails + 1)); }
    done
    [ -n "${DLLAB_UI_SHOTS:-}" ] && screen lf >"$DLLAB_UI_SHOTS/lrfind-after-v.txt"
    $T send-keys -t lf m
    wait_for lf "cursor: minimum"
    [ -n "${DLLAB_UI_SHOTS:-}" ] && screen lf >"$DLLAB_UI_SHOTS/lrfind-after-m.txt"
    $T send-keys -t lf "?"
    wait_for lf "Cursor to minimum"
    [ -n "${DLLAB_UI_SHOTS:-}" ] && screen lf >"$DLLAB_UI_SHOTS/lrfind-help.txt"
    $T send-keys -t lf "?"
    wait_gone lf "Cursor to minimum"
    $T send-keys -t lf q
    wait_for lf "Quit dllab\\? \\(y/n\\)"
    $T send-keys -t lf y
    restored lf
fi

[ $fails -eq 0 ] && echo "tmux LR-finder tests passed"
exit $((fails > 0))
