// tests/main.cpp — the Catch2 runner shared by every test binary. A binary asked for a
// poller this machine or build cannot have ($GEV_POLLER) exits 77: meson's "skipped".
// Any other failure to start the runtime fails the binary (exit 1): it is a fault.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "gev.hpp"
#include "runtime/poller.hpp"

#include <cstdio>
#include <system_error>

int main(int argc, char** argv) {
    try {
        gev::run([] {});
    } catch (const std::system_error& e) {
        if (e.code().category() == gev::detail::poller_unavailable_category()) {
            std::fprintf(stderr, "skipped: %s\n", e.what());
            return 77;
        }
        std::fprintf(stderr, "failed to start: %s\n", e.what());
        return 1;
    }
    return Catch::Session().run(argc, argv);
}
