// tests/multi/kill_order_test.cpp — kills sent from another hub queue up like local
// ones: each is raised in the target, in the order it was sent.
#include "support.hpp"

#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using Trace = std::vector<std::string>;

struct First {};
struct Second {};

}  // namespace

TEST_CASE("two kills sent from another hub are raised in the order they were sent", "[multi][kill]") {
    Trace trace;
    gev::run([&] {
        gev::Event parked;
        auto target = gev::spawn_on(1, [&] {
            parked.set();
            for (int i = 0; i < 3; ++i) {
                try {
                    // The first two sleeps outlast any delay in sending the kills (TSan on
                    // a loaded machine included); the kills end them.
                    gev::sleep(i < 2 ? 10s : 1ms);
                    trace.push_back("slept");
                } catch (const First&) {
                    trace.push_back("First");
                } catch (const Second&) {
                    trace.push_back("Second");
                }
            }
        });
        parked.wait();
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(First{}), .block = false});
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(Second{}), .block = false});
        target.join();
    }, gev::testing::hubs(2));
    REQUIRE(trace == Trace{"First", "Second", "slept"});
}
