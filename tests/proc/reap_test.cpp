// tests/proc/reap_test.cpp — wait's timeout and gev::Timeout, and the rule that an
// abandoned child (its waiter killed, its Popen dropped, its hub ended) is left running
// and reaped once it exits: no zombie, no fd left open. Also: children run in parallel.
#include "proc_support.hpp"

#include "proc/reaper.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

using namespace proc_test;

TEST_CASE("wait past its timeout throws TimeoutExpired and a later wait reaps the child", "[proc][wait]") {
    gev::testing::run([] {
        sp::Popen p({"sleep", "0.05"});
        try {
            p.wait(5ms);
            FAIL("no TimeoutExpired");
        } catch (const sp::TimeoutExpired& e) {
            REQUIRE(e.cmd == std::vector<std::string>{"sleep", "0.05"});
            REQUIRE(std::string(e.what()) == "Command 'sleep 0.05' timed out after 0.005 seconds");
        }
        REQUIRE_FALSE(p.poll().has_value());   // still running: a timeout does not kill
        REQUIRE(state_of(p.pid()) != 0);
        REQUIRE(p.wait() == 0);
        REQUIRE(state_of(p.pid()) == 0);       // reaped: no zombie
        REQUIRE(no_children());
    });
}

TEST_CASE("a gev::Timeout around wait leaves the child running and it can be waited for again", "[proc][wait]") {
    gev::testing::run([] {
        sp::Popen p({"sleep", "10"});
        {
            gev::Timeout limit{5ms};
            try {
                p.wait();
                FAIL("the Timeout did not fire");
            } catch (const gev::Timeout& t) {
                REQUIRE(t.is(limit));
            }
        }
        REQUIRE_FALSE(p.poll().has_value());
        p.terminate();
        REQUIRE(p.wait() == -SIGTERM);
        REQUIRE(no_children());
    });
}

TEST_CASE("killing a fiber parked in wait leaves the child running, then reaped, and no fd open", "[proc][wait]") {
    gev::testing::run([] {
        int fds = open_fds();
        int pid = -1;
        auto waiter = gev::spawn([&] {
            sp::Popen p({"sleep", "10"}, {.stdout = sp::PIPE});
            pid = p.pid();
            p.wait();
        });
        gev::sleep(5ms);
        waiter.kill();
        REQUIRE(waiter.dead());
        char s = state_of(pid);
        ::kill(pid, SIGKILL);   // still our unreaped child: the number cannot be anyone else's
        REQUIRE((s != 0 && s != 'Z'));   // it was left running
        REQUIRE(eventually([&] { return state_of(pid) == 0; }));   // and then reaped
        REQUIRE(no_children());
        REQUIRE(open_fds() == fds);
    });
}

TEST_CASE("killing a fiber parked in communicate leaves no zombie and no fd open", "[proc][communicate]") {
    gev::testing::run([] {
        int fds = open_fds();
        int pid = -1;
        auto talker = gev::spawn([&] {
            sp::Popen p({"sh", "-c", "exec sleep 10"}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
            pid = p.pid();
            p.communicate(std::string(1 << 20, 'x'));
        });
        gev::sleep(5ms);
        talker.kill();
        char s = state_of(pid);
        ::kill(pid, SIGKILL);
        REQUIRE((s != 0 && s != 'Z'));
        REQUIRE(eventually([&] { return state_of(pid) == 0; }));
        REQUIRE(no_children());
        REQUIRE(open_fds() == fds);
    });
}

TEST_CASE("a Popen dropped while its child runs leaves it running and it is reaped when it exits", "[proc][reap]") {
    gev::testing::run([] {
        int fds = open_fds();
        int pid;
        {
            sp::Popen p({"sleep", "10"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
            pid = p.pid();
        }
        char s = state_of(pid);
        ::kill(pid, SIGKILL);
        REQUIRE((s != 0 && s != 'Z'));
        REQUIRE(eventually([&] { return state_of(pid) == 0; }));
        REQUIRE(open_fds() == fds);
    });
}

TEST_CASE("a child still running when its hub ends is reaped after gev::run returns", "[proc][reap]") {
    int fds = open_fds();
    int pid = -1;
    gev::run([&] {
        sp::Popen p({"sleep", "10"});
        pid = p.pid();
    });
    char s = state_of(pid);
    ::kill(pid, SIGKILL);
    REQUIRE((s != 0 && s != 'Z'));
    REQUIRE(eventually([&] { return state_of(pid) == 0; }));
    REQUIRE(no_children());
    REQUIRE(eventually([&] { return open_fds() == fds; }));   // the reaping thread closes the pidfd
}

TEST_CASE("a fiber still waiting on a child when its hub ends leaves it to be reaped", "[proc][reap]") {
    int fds = open_fds();
    int pid = -1;
    gev::run([&] {
        gev::spawn([&] {
            sp::Popen p({"sleep", "10"}, {.stdout = sp::PIPE});
            pid = p.pid();
            p.wait();   // killed here when main returns
        });
        gev::sleep(5ms);
    });
    REQUIRE(pid > 0);
    char s = state_of(pid);
    ::kill(pid, SIGKILL);
    REQUIRE((s != 0 && s != 'Z'));
    REQUIRE(eventually([&] { return state_of(pid) == 0; }));
    REQUIRE(no_children());
    REQUIRE(eventually([&] { return open_fds() == fds; }));
}

TEST_CASE("a Popen made and dropped outside any hub is reaped too", "[proc][reap]") {
    int fds = open_fds();
    int pid;
    {
        sp::Popen p({"sleep", "10"});
        pid = p.pid();
        REQUIRE_FALSE(p.poll().has_value());
    }
    char s = state_of(pid);
    ::kill(pid, SIGKILL);
    REQUIRE((s != 0 && s != 'Z'));
    REQUIRE(eventually([&] { return state_of(pid) == 0; }));
    REQUIRE(no_children());
    REQUIRE(eventually([&] { return open_fds() == fds; }));
}

TEST_CASE("a hundred children started and waited for leave no fd open", "[proc][reap]") {
    gev::testing::run([] {
        sp::check_output({"true"});   // anything the first start sets up once
        int fds = open_fds();
        for (int i = 0; i < 100; ++i) {
            sp::Popen p({"sh", "-c", "echo $0", std::to_string(i)}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
            auto [out, err] = p.communicate();
            REQUIRE(out == std::to_string(i) + "\n");
        }
        REQUIRE(open_fds() == fds);
        REQUIRE(no_children());
    });
}

TEST_CASE("ten children waited for by ten fibers finish in much less than ten times one child", "[proc][wait]") {
    gev::testing::run([] {
        auto t0 = std::chrono::steady_clock::now();
        sp::check_call({"sleep", "0.1"});
        auto one = std::chrono::steady_clock::now() - t0;
        t0 = std::chrono::steady_clock::now();
        std::vector<gev::Greenlet<int>> gs;
        for (int i = 0; i < 10; ++i) gs.push_back(gev::spawn([] { return sp::Popen({"sleep", "0.1"}).wait(); }));
        gev::joinall(gs);
        auto ten = std::chrono::steady_clock::now() - t0;
        for (auto& g : gs) REQUIRE(g.get() == 0);
        REQUIRE(ten < 5 * one);
    });
}

TEST_CASE("several fibers may wait on one Popen and all get its returncode", "[proc][wait]") {
    gev::testing::run([] {
        int fds = open_fds();
        sp::Popen p({"sh", "-c", "exec sleep 0.05"});
        std::vector<gev::Greenlet<int>> gs;
        for (int i = 0; i < 3; ++i) gs.push_back(gev::spawn([&] { return p.wait(); }));
        gs.push_back(gev::spawn([&] { return p.communicate().first.empty() ? *p.returncode() : -1; }));
        gev::sleep(1ms);
        REQUIRE(p.wait() == 0);
        for (auto& g : gs) REQUIRE(g.get() == 0);
        REQUIRE(open_fds() == fds);
    });
}

TEST_CASE("a fork while another thread starts the reaper leaves the child able to abandon children",
          "[proc][reap][fork]") {
    // Another thread holds the reaper's start lock, as while it starts this process's
    // reaper; the fork waits for it, so the child's copy is free.
    std::mutex& start = sp::proc_detail::reaper_start_mutex();
    std::atomic<bool> held{false};
    std::thread holder([&] {
        std::lock_guard lock(start);
        held.store(true);
        std::this_thread::sleep_for(30ms);
    });
    while (!held.load()) std::this_thread::yield();
    pid_t child = ::fork();
    if (child == 0) {
        int pid;
        {
            sp::Popen p({"sleep", "10"});   // abandoned: the child starts a reaper of its own
            pid = p.pid();
        }
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 600 && state_of(pid) != 0; ++i) std::this_thread::sleep_for(5ms);
        ::_exit(state_of(pid) == 0 ? 0 : 3);
    }
    holder.join();
    REQUIRE(child > 0);
    int status = 0;
    bool ended = false;
    for (int i = 0; i < 500 && !ended; ++i) {
        ended = ::waitpid(child, &status, WNOHANG) == child;
        if (!ended) std::this_thread::sleep_for(10ms);
    }
    if (!ended) {   // hung on the start lock: end it, so the test fails rather than hangs
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
    }
    REQUIRE(ended);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}
