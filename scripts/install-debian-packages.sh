#!/bin/sh
# Debian packages Vigie needs beyond Python 3.11 itself: venv support, and a C++ compiler for the
# optional reference PDQ used by the compatibility tests. Runs as root (or with sudo when present).
set -e
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3-venv python3-dev g++ >/dev/null
