// examples/threads/producer_consumer.cpp — seed Q2, the "bones" producer/consumer:
// task_done() and join(). The producer puts ten bones and waits in join() until the
// consumer has called task_done() once per bone; the consumer is main itself, as in
// the seed. Prints the seed's twelve lines.
// Differs from the Python: spawning is lazy (the producer first runs when main waits),
// so main's consumer uses a blocking get() — iterating the queue — instead of the
// seed's `while q.qsize() > 0`, which would find the queue empty and return at once,
// leaving the producer in join() forever. The producer shuts the queue down after its
// join, which ends main's loop.
// Run: build/examples/producer_consumer
#include "gev.hpp"

#include <cstdio>
#include <string>

int main() {
    return gev::run([] {
        gev::Queue<std::string> q;
        auto producer = gev::spawn([&q] {
            for (int i = 0; i < 10; ++i) q.put("骨头 " + std::to_string(i));   // "bone i"
            std::puts("开始等待所有的骨头被取走...");   // waiting for all the bones to be taken
            q.join();
            std::puts("所有的骨头被取完了...");         // all the bones have been taken
            q.shutdown();
        });
        const char* name = "李闯";
        for (std::string& bone : q) {   // q.get() until shutdown
            std::printf("%s 取到 %s\n", name, bone.c_str());   // "<name> got <bone>"
            q.task_done();              // tell the queue this task is finished
        }
        producer.join();
    });
}
