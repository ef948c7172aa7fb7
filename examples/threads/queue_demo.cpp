// examples/threads/queue_demo.cpp — seed Q1: the three queue kinds and Python's queue
// API on fibers. The same three items come out of a Queue first in first out, of a
// LifoQueue last in first out, and of a PriorityQueue smallest first; then a bounded
// queue shows qsize/empty/full, and the nowait forms and a timed get show Full and Empty.
// Differs from the Python: the seed is only the API list; this prints what each call does.
// Run: build/examples/queue_demo [--fast]   (--fast: a 10 ms timeout instead of 1 s)
#include "gev.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

using namespace std::chrono_literals;

template <class Q>
void drain(const char* label, Q& q) {
    std::string out;
    while (!q.empty()) out += " " + std::to_string(q.get());
    std::printf("%-15s%s\n", label, out.c_str());
}

int main(int argc, char** argv) {
    gev::Duration wait = 1s;
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) wait = 10ms;
    return gev::run([wait] {
        gev::Queue<int> fifo;             // class queue.Queue(maxsize=0)
        gev::LifoQueue<int> lifo;         // class queue.LifoQueue(maxsize=0)
        gev::PriorityQueue<int> prio;     // class queue.PriorityQueue(maxsize=0)
        for (int x : {2, 3, 1}) {
            fifo.put(x);
            lifo.put(x);
            prio.put(x);
        }
        std::printf("put 2 3 1 into each\n");
        drain("Queue:", fifo);
        drain("LifoQueue:", lifo);
        drain("PriorityQueue:", prio);

        // (priority, data) pairs: the smallest priority first, as with Python's tuples.
        gev::PriorityQueue<std::pair<int, std::string>> jobs;
        jobs.put({3, "sleep"});
        jobs.put({1, "eat"});
        jobs.put({2, "code"});
        while (!jobs.empty()) {
            auto [priority, what] = jobs.get();
            std::printf("priority %d: %s\n", priority, what.c_str());
        }

        gev::Queue<std::string> q(2);
        q.put("a");
        q.put_nowait("b");
        std::printf("maxsize %zu: qsize %zu, empty %s, full %s\n", q.maxsize(), q.qsize(),
                    q.empty() ? "true" : "false", q.full() ? "true" : "false");
        try {
            q.put_nowait("c");
        } catch (const gev::Full& e) {
            std::printf("put_nowait on a full queue: %s\n", e.what());
        }
        std::string first = q.get();   // sequenced: argument evaluation order is unspecified
        std::string second = q.get_nowait();
        std::printf("get: %s, get_nowait: %s\n", first.c_str(), second.c_str());
        try {
            q.get_nowait();
        } catch (const gev::Empty& e) {
            std::printf("get_nowait on an empty queue: %s\n", e.what());
        }
        auto start = std::chrono::steady_clock::now();
        try {
            q.get(true, wait);            // Queue.get(block=True, timeout=...)
        } catch (const gev::Empty&) {
            bool waited = std::chrono::steady_clock::now() - start >= wait;
            std::printf("get with a timeout on an empty queue: Empty %s the timeout\n",
                        waited ? "after" : "BEFORE");
        }
    });
}
