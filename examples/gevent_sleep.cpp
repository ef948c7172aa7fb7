// examples/gevent_sleep.cpp — two fibers sleep at once (seed S1-3): about 2 s in all,
// not 3. Order: func1 start, func2 start, func2 done, func1 done.
// Run: build/examples/gevent_sleep
#include "gev.hpp"

#include <cstdio>

using namespace std::chrono_literals;

void func1() {
    std::puts("func1 start");
    gev::sleep(2s);
    std::puts("func1 done");
}

void func2() {
    std::puts("func2 start");
    gev::sleep(1s);
    std::puts("func2 done");
}

int main() {
    return gev::run([] {
        gev::joinall({
            gev::spawn(func1),
            gev::spawn(func2),
        });
    });
}
