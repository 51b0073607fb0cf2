#!/usr/bin/env bash
# Installs what MemoryPlane needs on a fresh Debian machine: redis-server and redis-tools (the data
# plane and its CLI), libsqlite3-dev (GRDB links the system SQLite), and with --test the Python
# packages the end-to-end suite uses and the headless browsers the console's tests drive (Debian's
# chromium with chromium-driver, and firefox-esr through its own Marionette protocol; nothing is
# downloaded at run time). As root it installs; otherwise
# it prints the command to run.
set -euo pipefail

missing_debs=()
command -v redis-server >/dev/null 2>&1 || missing_debs+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing_debs+=(redis-tools)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing_debs+=(libsqlite3-dev)
if [ "${1:-}" = "--test" ]; then
    command -v chromium >/dev/null 2>&1 || missing_debs+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing_debs+=(chromium-driver)
    command -v firefox-esr >/dev/null 2>&1 || missing_debs+=(firefox-esr)
fi

if [ ${#missing_debs[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "installing ${missing_debs[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null
    else
        echo "missing system packages; run: sudo apt-get install -y ${missing_debs[*]}" >&2
        exit 1
    fi
fi

if [ "${1:-}" = "--test" ]; then
    # redis, valkey-glide and coredis: three cluster clients nobody here wrote, for the
    # shape-change tests (glide is AWS's recommended MemoryDB client).
    # selenium drives the system chromium through chromium-driver, marionette_driver the system
    # firefox (Debian has no geckodriver): the console's browser tests.
    if ! python3 -c "import pytest, requests, boto3, redis, prometheus_client, glide, coredis, selenium, marionette_driver" >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
        echo "installing Python test packages"
        python3 -m pip install -q pytest requests boto3 awscli redis prometheus_client valkey-glide coredis selenium marionette_driver
    fi
fi
