#!/usr/bin/env bash
# tests/consumer/run.sh — gev used from outside its tree, as a user would: install the
# configured build into a fresh staging directory (DESTDIR), check that only gev/ lands
# in include/, that every installed header compiles on its own with -Wall -Wextra
# -Werror and that no internal one (the hub, the IO seam) is installed, then build
# app.cpp + nested.cpp three ways and run each: pkg-config, CMake find_package, and
# gev as a meson subproject (subprojects/gev -> this source tree).
#   tests/consumer/run.sh [BUILD_DIR]   (default: build; configured, e.g. by scripts/test)
# The install keeps the build's configured prefix (meson install takes no other), so
# consumers are pointed into DESTDIR: pkg-config --define-variable=prefix=..., and
# CMAKE_PREFIX_PATH (gevConfig.cmake finds its paths relative to itself).
# Work files live in BUILD_DIR/consumer (the subproject build is kept for speed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || exit 1
work=$build/consumer
failed=0

step() { echo "consumer: $1: $2"; [ "$2" = OK ] || failed=1; }
option() {
    meson introspect "$build" --buildoptions | python3 -c "
import json, sys
print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == '$1'))"
}

# Build only what is installed, then stage the install.
targets=$(meson introspect "$build" --targets | python3 -c "
import json, os, sys
print(' '.join(os.path.relpath(f, '$build') for t in json.load(sys.stdin) if t['installed'] for f in t['filename']))")
ninja -C "$build" $targets >/dev/null || { step build FAILED; exit 1; }
rm -rf "$work/stage" "$work/pkgconfig" "$work/cmake"
mkdir -p "$work/pkgconfig"
DESTDIR="$work/stage" meson install -C "$build" --no-rebuild --quiet >/dev/null || { step install FAILED; exit 1; }
prefix="$work/stage$(option prefix)"
libdir="$prefix/$(option libdir)"
includedir="$prefix/$(option includedir)"

# Only gev/ in include/, and each header self-contained and warning-free.
[ "$(ls "$includedir")" = gev ] && step "include/ holds only gev/" OK || step "include/ holds only gev/" FAILED
export includedir
if (cd "$includedir/gev" && find . -name '*.hpp' | sed 's|^\./||' | sort |
    xargs -P 2 -I{} sh -c 'echo "#include \"{}\"" | g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only \
        -I"$includedir/gev" -x c++ - || { echo "  in {}" >&2; exit 1; }'); then
    step "every installed header compiles on its own" OK
else
    step "every installed header compiles on its own" FAILED
fi

# The scheduler and the IO seam stay internal: gev.hpp must not need them (issue 14).
internal=""
for h in runtime/hub.hpp runtime/poller.hpp runtime/io.hpp runtime/io_wait.hpp runtime/multi.hpp file/file_ops.hpp; do
    [ -e "$includedir/gev/$h" ] && internal="$internal $h"
done
[ -z "$internal" ] && step "no internal header is installed" OK || { echo "  installed:$internal"; step "no internal header is installed" FAILED; }

# Runs a consumer binary: it prints its line and exits 0 only if gev worked.
check_run() {
    local out
    out=$(LD_LIBRARY_PATH="$libdir" timeout 30 "$2" 2>&1)
    if [ $? -eq 0 ] && [ "$out" = "consumer: order=a<b>a nested=nested:patched" ]; then step "$1" OK
    else echo "$out" | sed 's/^/  /'; step "$1" FAILED; fi
}

# 1. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
if flags=$(pkg-config --define-variable=prefix="$prefix" --cflags --libs gev) &&
   g++ -Wall -Wextra -Werror "$here/app.cpp" "$here/nested.cpp" $flags -lgev_monkey -o "$work/pkgconfig/app"; then
    check_run pkg-config "$work/pkgconfig/app"
else
    step pkg-config FAILED
fi

# 2. CMake find_package
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if cmake -S "$here" -B "$work/cmake" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 &&
   cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1; then
    check_run "cmake find_package" "$work/cmake/app"
else
    sed 's/^/  /' "$work/cmake.log" | tail -20
    step "cmake find_package" FAILED
fi

# 3. meson subproject
src=$work/meson-src
mkdir -p "$src/subprojects"
ln -sfn "$here/meson/meson.build" "$src/meson.build"
ln -sfn "$here/app.cpp" "$src/app.cpp"
ln -sfn "$here/nested.cpp" "$src/nested.cpp"
ln -sfn "$root" "$src/subprojects/gev"
if { [ -f "$work/meson-build/build.ninja" ] || meson setup "$work/meson-build" "$src" >"$work/meson.log" 2>&1; } &&
   ninja -C "$work/meson-build" app >>"$work/meson.log" 2>&1; then
    check_run "meson subproject" "$work/meson-build/app"
else
    sed 's/^/  /' "$work/meson.log" | tail -20
    step "meson subproject" FAILED
fi
exit $failed
