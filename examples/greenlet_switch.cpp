// examples/greenlet_switch.cpp — greenlet's explicit switching, ported line for line
// from the seed demo (S1-2). Prints 12, 56, 34, 78: when test2 returns, control goes to
// gr2's parent (main), not back to gr1, so "34"'s second switch never returns.
// Run: build/examples/greenlet_switch
#include "gev.hpp"

#include <cstdio>

int main() {
    gev::RawGreenlet gr1, gr2;

    auto test1 = [&] {
        std::puts("12");
        gr2.switch_to();
        std::puts("34");
        gr2.switch_to();
    };

    auto test2 = [&] {
        std::puts("56");
        gr1.switch_to();
        std::puts("78");
    };

    gr1 = gev::RawGreenlet(test1);
    gr2 = gev::RawGreenlet(test2);
    gr1.switch_to();
}
