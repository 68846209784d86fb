# lib.sh: the tmux helpers shared by tests/ui/tmux.sh and tests/ui/compare.sh, sourced (never run)
# after the caller sets TAG (names its temp folder) and SOCK (names its private tmux server).
# It skips (77) without tmux or the Fashion-MNIST files, fails at once (with tmux's reason) when
# tmux cannot start a server, finds the dllab binary, makes WORK, and
# gives: start, screen, wait_for, wait_gone, refute, restored, a failure count in `fails`, and a
# cleanup on exit that also kills the background job in BG when the caller started one. It
# refuses to run without a built src/dllab (exit 1: that is a broken build, not a skip).
command -v tmux >/dev/null 2>&1 || { echo "tmux not installed: skipping"; exit 77; }
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ] ||
    { echo "fashion-mnist files missing: skipping"; exit 77; }
DLLAB=${top_builddir:-.}/src/dllab
[ -x "$DLLAB" ] || { echo "no $DLLAB"; exit 1; }
DLLAB=$(cd "$(dirname "$DLLAB")" && pwd)/dllab
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dllab-$TAG-XXXXXX")
T="tmux -L $SOCK -f /dev/null"
BG=
cleanup() {
    [ -n "$BG" ] && kill "$BG" 2>/dev/null
    $T kill-server >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fails=0

# Precondition: tmux can start a server here. When it cannot (e.g. /dev/null is no longer a
# device: "fatal: No such device: daemon failed"), every case below would time out; say tmux's
# own reason once and fail instead.
# The probe session stays until cleanup's kill-server: killing it would make the server exit
# while the first `start` connects ("server exited unexpectedly", seen under load).
if ! why=$($T new-session -d -s probe -x 20 -y 5 "sleep 3600" 2>&1); then
    echo "FAIL: tmux cannot start a server, so no screen test can run; tmux said:"
    echo "$why"
    exit 1
fi

# start NAME W H LANG COMMAND: a session running COMMAND under sh, then a marker line and the
# terminal modes, so we can see the command ended and what it left the terminal in.
start() {
    $T new-session -d -s "$1" -x "$2" -y "$3" \
        "env LANG=$4 LC_ALL=$4 TERM=screen-256color DLLAB_RUNS=$WORK/runs TMPDIR=$WORK $5; echo EXIT=\$?; stty -a | tr ';' '\n' | grep -E -- '(^| )-?(icanon|echo)( |\$)' | tr -s ' \n' ' '; echo; sleep 30"
    $T set-option -t "$1" remain-on-exit on >/dev/null
}
screen() { $T capture-pane -p -t "$1" 2>/dev/null; }
# wait_for NAME PATTERN [SECONDS]: polls until the screen matches the extended regex. The limits
# are stretched by DLLAB_UI_WAIT_SCALE (make check-sanitize/check-tsan: sanitized dllab is slower).
wait_for() {
    i=0
    lim=$(( ${3:-15} * 10 * ${DLLAB_UI_WAIT_SCALE:-1} ))
    while [ $i -lt $lim ]; do
        if screen "$1" | grep -E -q -- "$2"; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "FAIL: '$2' never appeared on $1; screen was:"; screen "$1"
    fails=$((fails + 1))
    return 1
}
# wait_gone NAME PATTERN [SECONDS]: polls until the pattern has left the screen (after a key).
wait_gone() {
    i=0
    lim=$(( ${3:-10} * 10 * ${DLLAB_UI_WAIT_SCALE:-1} ))
    while [ $i -lt $lim ]; do
        if ! screen "$1" | grep -E -q -- "$2"; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "FAIL: '$2' stayed on $1; screen was:"; screen "$1"
    fails=$((fails + 1))
}
# refute NAME PATTERN: the pattern must not be on the screen now.
refute() {
    if screen "$1" | grep -E -q -- "$2"; then
        echo "FAIL: '$2' should not be on $1; screen was:"; screen "$1"
        fails=$((fails + 1))
    fi
}
# restored NAME: the command ended and left the terminal in canonical mode with echo on.
restored() {
    wait_for "$1" "EXIT=" 10 || return
    wait_for "$1" "icanon" 10 || return
    if ! screen "$1" | grep -E -q -- "(^| )icanon" || ! screen "$1" | grep -E -q -- "(^| )echo( |$)"; then
        echo "FAIL: terminal not restored after $1:"; screen "$1"
        fails=$((fails + 1))
    fi
}
