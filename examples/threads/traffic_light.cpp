// examples/threads/traffic_light.cpp — seed T8: one fiber drives a traffic light with
// an Event (set = green or yellow, clear = red) and three cars come to it at random
// times. The light runs the seed's cycle: 10 green seconds, 3 yellow, 7 red, then one
// silent second in which it turns green again (later cycles have 9 printed greens).
// Differs from the Python: a car that finds the light red really waits on the Event
// (event.wait()) and drives on when it turns green, instead of only printing; the RNG
// is seeded, so runs repeat; the light stops after two cycles and main kills the cars
// (the seed runs forever).
// Run: build/examples/traffic_light [--fast]   (--fast: a 10 ms second)
#include "gev.hpp"

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace std::chrono_literals;

static gev::Duration second = 1s;
static gev::Event event;   // set: green (or yellow); clear: red

void light(int cycles) {
    if (!event.is_set()) event.set();
    int count = 0;
    while (cycles > 0) {
        if (count < 10) {
            std::printf("\033[42;1m--green light on---\033[0m\n");
        } else if (count < 13) {
            std::printf("\033[43;1m--yellow light on---\033[0m\n");
        } else if (count < 20) {
            if (event.is_set()) event.clear();
            std::printf("\033[41;1m--red light on---\033[0m\n");
        } else {
            count = 0;
            event.set();   // green again
            --cycles;
        }
        gev::sleep(second);
        ++count;
    }
}

void car(int n) {
    std::minstd_rand rng(n + 1);
    for (;;) {
        gev::sleep(second * static_cast<int>(rng() % 10));   // randrange(10); 0 still yields
        if (event.is_set()) {
            std::printf("car [%d] is running..\n", n);
        } else {
            std::printf("car [%d] is waiting for the red light..\n", n);
            event.wait();
            std::printf("car [%d] is running..\n", n);
        }
    }
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) second = 10ms;
    return gev::run([] {
        auto driver = gev::spawn(light, 2);
        std::vector<gev::Greenlet<>> cars;
        for (int i = 0; i < 3; ++i) cars.push_back(gev::spawn(car, i));
        driver.join();
        gev::killall(cars);
    });
}
