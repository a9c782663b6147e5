#!/bin/sh
# Debian packages Vigie's set-up uses beyond Python 3.11 itself: venv support; what Meta's reference
# PDQ/vPDQ need to compile (a C++ compiler, CMake, FFmpeg's headers) for the compatibility tests; and
# Chromium, which prints the case report to PDF and runs the console's end-to-end tests (through Playwright,
# which never downloads a browser of its own here); and the tools the disk image tests build their images
# with (FAT, ext4, NTFS and ISO 9660 file systems, partition tables, an E01 through ewfacquire, a hybrid
# ISO 9660 + HFS+ CD image through xorriso); PostgreSQL, whose initdb and pg_ctl the PostgreSQL store tests
# start a private server with (tests/pg.py); and libturbojpeg, which decodes a JPEG to its planes as stored for
# the AI stage (PyTurboJPEG loads it).
# Runs as root, or through sudo when present.
set -e
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    python3-venv python3-dev g++ cmake pkg-config strace \
    libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libavutil-dev libswresample-dev libswscale-dev \
    >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends dosfstools mtools e2fsprogs exfatprogs fdisk ewf-tools ntfs-3g genisoimage xorriso >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends libturbojpeg0 >/dev/null
