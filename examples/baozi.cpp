// examples/baozi.cpp — the seed's yield producer/consumer (S1-1), on greenlets: each
// consumer is primed by a first switch, then the producer hands it bun after bun.
// The output is byte-identical to the Python program's 17 lines.
// Run: build/examples/baozi
#include "gev.hpp"

#include <any>
#include <cstdio>
#include <string>

// A consumer eats whatever the producer switches in; `yield` is a switch back to its
// parent, the producer. (It keeps no handle to itself: one on its own stack would
// keep it alive for ever.)
gev::RawGreenlet consumer(const std::string& name) {
    return gev::RawGreenlet([name] {
        gev::RawGreenlet producer = gev::getcurrent().parent();
        std::puts("--->starting eating baozi...");
        for (;;) {
            std::any new_baozi = producer.switch_to();   // new_baozi = yield
            std::printf("[%s] is eating baozi %d\n", name.c_str(), std::any_cast<int>(new_baozi));
        }
    });
}

int main() {
    gev::RawGreenlet con = consumer("c1");
    gev::RawGreenlet con2 = consumer("c2");

    // producer()
    con.switch_to();    // con.__next__()
    con2.switch_to();   // con2.__next__()
    int n = 0;
    while (n < 5) {
        n += 1;
        con.switch_to(n);    // con.send(n)
        con2.switch_to(n);   // con2.send(n)
        std::printf("\033[32;1m[producer]\033[0m is making baozi %d\n", n);
    }
}
