// tests/proc/hubs_test.cpp — gev::subprocess on several hubs at once (the 'threads'
// suite, so ThreadSanitizer runs it): each hub starts, talks to and reaps its own
// children, and a child dropped on hub 1 is reaped once it exits.
#include "proc_support.hpp"

#include <atomic>

using namespace proc_test;

TEST_CASE("children started on two hubs at once are talked to and reaped on each", "[proc][hubs]") {
    std::atomic<int> good{0}, pid_dropped{-1};
    gev::run([&] {
        std::vector<gev::Greenlet<>> gs;
        for (unsigned h = 0; h < 2; ++h)
            for (int i = 0; i < 3; ++i)
                gs.push_back(gev::spawn_on(h, [&good, &pid_dropped, h, i] {
                    std::string word = "hub" + std::to_string(h) + "-" + std::to_string(i);
                    sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
                    auto [out, err] = p.communicate(std::string(100000, 'x') + word);
                    if (out == std::string(100000, 'x') + word && p.returncode() == 0) ++good;
                    if (sp::check_output({"sh", "-c", "echo $0", word}) == word + "\n") ++good;
                    if (h == 1 && i == 0) {
                        sp::Popen dropped({"sleep", "0.05"});
                        pid_dropped = dropped.pid();
                    }
                }));
        gev::joinall(gs);
        eventually([&] { return state_of(pid_dropped) == 0; });
    }, gev::testing::hubs(2));
    REQUIRE(good == 12);
    REQUIRE(state_of(pid_dropped) == 0);
    REQUIRE(no_children());
}
