#!/bin/sh
# Installs exactly the Debian 12 packages dllab needs to build, test and run (as root).
set -e
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential autoconf automake libtool pkg-config \
  libncurses-dev libturbojpeg0-dev libopenblas-dev check libsqlite3-dev libjansson-dev \
  zlib1g-dev libpng-dev libarchive-dev libcairo2-dev \
  libopenmpi-dev openmpi-bin \
  dataset-fashion-mnist tmux"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
fi
