#!/bin/sh
# Fails when anything under core/ includes curses: the engine must build without a terminal.
top=${top_srcdir:-$(dirname "$0")/..}
hits=$(grep -rnE '#[[:space:]]*include[[:space:]]*[<"](n?curses|ncursesw/|term\.h|panel\.h)' "$top/core" 2>/dev/null)
if [ -n "$hits" ]; then
    echo "core/ must not include curses:"
    echo "$hits"
    exit 1
fi
echo "core/ is curses-free"
