// tests/main.cpp — the Catch2 runner shared by every test binary. A binary asked for a
// poller this machine cannot start ($GEV_POLLER) exits 77: meson's "skipped".
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "gev.hpp"

#include <cstdio>
#include <system_error>

int main(int argc, char** argv) {
    try {
        gev::run([] {});
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "skipped: %s\n", e.what());
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
