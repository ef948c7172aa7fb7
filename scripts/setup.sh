#!/usr/bin/env bash
# scripts/setup.sh — sourced by scripts/demo and scripts/test: installs the Debian
# packages gev needs (only those missing), then configures and builds.
#   gev_setup [build-dir meson-options...]
# Without root and with packages missing, prints the exact apt-get line and fails.
set -euo pipefail

GEV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEV_PACKAGES=(meson ninja-build pkg-config g++ libboost-context-dev liburing-dev catch2 libcurl4-openssl-dev libhiredis-dev
              curl           # tests/examples/check_http_server.py drives the HTTP example with it
              node-llhttp    # llhttp's C sources, compiled into libgev (http/)
              redis-server   # the monkey tests drive hiredis against a real server
              libdw-dev      # libdw: spawn sites as file:line in fiber dumps (optional in meson)
              libssl-dev openssl)   # TLS (net/tls*); the CLI makes the tests' certificates

gev_install_packages() {
    local missing=() p
    for p in "${GEV_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local cmd="apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "gev: missing packages; run as root:" >&2
        echo "  apt-get update && $cmd" >&2
        exit 1
    fi
    echo "gev: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    $cmd >&2
}

# gev_build DIR [meson options...]: configure once (reconfigure if options changed), build.
gev_build() {
    local dir=$1; shift
    cd "$GEV_ROOT"
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >&2
    fi
    ninja -C "$dir" >&2
}
