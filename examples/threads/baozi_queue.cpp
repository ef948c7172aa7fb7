// examples/threads/baozi_queue.cpp — seed Q3: producer A makes 20 baozi, sleeping 0–2
// time units between them; consumer B looks 20 times, sleeping 0–3 units, and eats one
// when the queue is not empty. B eats them in the order A made them (FIFO), says
// "no baozi anymore" only when the queue is empty, and both end cleanly.
// Differs from the Python: the sleeps come from seeded generators (--seed), a unit is
// 1 s (10 ms with --fast), and a last line counts what B left in the queue.
// Run: build/examples/baozi_queue [--fast] [--seed N]
#include "gev.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

using namespace std::chrono_literals;

static gev::Duration unit = 1s;
static gev::Queue<int> q;

// Python's random.randrange(n): 0 .. n-1 units. Zero still yields (sleep(0)).
static void nap(std::mt19937& rng, int n) {
    gev::sleep(unit * std::uniform_int_distribution<int>(0, n - 1)(rng));
}

void producer(const char* name, unsigned seed) {
    std::mt19937 rng(seed);
    for (int count = 0; count < 20; ++count) {
        nap(rng, 3);
        q.put(count);
        std::printf("Producer %s has produced %d baozi..\n", name, count);
    }
}

void consumer(const char* name, unsigned seed) {
    std::mt19937 rng(seed);
    for (int count = 0; count < 20; ++count) {
        nap(rng, 4);
        if (!q.empty()) {
            int data = q.get();
            std::printf("%d\n", data);
            std::printf("\033[32;1mConsumer %s has eat %d baozi...\033[0m\n", name, data);
        } else {
            std::printf("-----no baozi anymore----\n");
        }
    }
}

int main(int argc, char** argv) {
    unsigned seed = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--fast") == 0) unit = 10ms;
        else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = std::strtoul(argv[++i], nullptr, 10);
    }
    return gev::run([seed] {
        auto p1 = gev::spawn(producer, "A", seed);
        auto c1 = gev::spawn(consumer, "B", seed + 1);
        gev::joinall({p1, c1});
        std::printf("left in the queue: %zu\n", q.qsize());
    });
}
