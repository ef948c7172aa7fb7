// examples/threads/daemon_join.cpp — seed T3: join with a timeout, and "daemon"
// fibers. join(timeout) returns false when the time is up and leaves the fiber
// running; when main returns, every fiber still alive is killed (GreenletExit), so
// nothing keeps the program alive: in gev every fiber is a daemon.
// Differs from the Python: main waits 1.5 s for m instead of 2 s. In the seed, three
// things fall due at t = 2 s (thread 0's "--done--", m's second join, main's join), so
// its output is a race; 1.5 s gives, every time, what the seed printed in most runs.
// Names are gev's ("Greenlet-<id>").
// Run: build/examples/daemon_join [--fast]   (--fast: a 20 ms second)
#include "gev.hpp"

#include <cstdio>
#include <cstring>

using namespace std::chrono_literals;

static gev::Duration second = 1s;

void run(int n) {
    std::printf("[%d]------running----\n\n", n);
    gev::sleep(2 * second);
    std::printf("--done--\n");
}

void m_main() {
    for (int i = 0; i < 5; ++i) {
        auto t = gev::spawn(run, i);
        t.join(second);   // false: t is still sleeping, and keeps running
        std::printf("starting thread %s\n", t.name().c_str());
    }
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) second = 20ms;
    return gev::run([] {
        auto m = gev::spawn(m_main);
        m.join(second * 3 / 2);
        std::printf("---main thread done----\n");
        // Returning kills m and the fibers it started.
    });
}
