// tests/proc/communicate_test.cpp — pipes that park only the fiber, communicate without
// deadlock however large both directions are, its timeout and resumption, and the
// run/call/check_call/check_output helpers.
#include "proc_support.hpp"

#include <signal.h>

using namespace proc_test;

namespace {

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
    return s;
}

}  // namespace

TEST_CASE("pipes read and write the child's stdio and park only the calling fiber", "[proc][pipe]") {
    gev::testing::run([] {
        sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
        int ticks = 0;
        auto ticker = gev::spawn([&] {
            for (;;) {
                ++ticks;
                gev::sleep(1ms);
            }
        });
        auto writer = gev::spawn([&] {
            gev::sleep(20ms);   // the reader below parks meanwhile
            p.stdin.write_all("hello ");
            p.stdin.write("world");
            p.stdin.close();
        });
        int before = ticks;
        REQUIRE(p.stdout.read_all() == "hello world");
        REQUIRE(ticks > before + 2);   // the ticker ran while the reader waited
        REQUIRE(p.stdout.read(10).empty());   // end of stream
        REQUIRE(p.wait() == 0);
        writer.join();
        ticker.kill();
    });
}

TEST_CASE("writing to a child that has exited throws EPIPE instead of raising SIGPIPE", "[proc][pipe]") {
    gev::testing::run([] {
        sp::Popen p({"true"}, {.stdin = sp::PIPE});
        REQUIRE(p.wait() == 0);
        try {
            p.stdin.write_all(std::string(1 << 20, 'x'));
            FAIL("wrote to a gone reader");
        } catch (const std::system_error& e) {
            REQUIRE(e.code() == std::errc::broken_pipe);
        }
        sigset_t pending;
        sigpending(&pending);
        REQUIRE(sigismember(&pending, SIGPIPE) == 0);
    });
}

TEST_CASE("communicate moves 8 MiB each way through cat without deadlock", "[proc][communicate]") {
    gev::testing::run([] {
        std::string input = pattern(8 << 20);
        sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
        auto [out, err] = p.communicate(input);
        REQUIRE(out.size() == input.size());
        REQUIRE(out == input);
        REQUIRE(err.empty());
        REQUIRE(p.returncode() == 0);
    });
}

TEST_CASE("communicate reads stderr while the child has not read its stdin", "[proc][communicate]") {
    gev::testing::run([] {
        // The child fills stderr (far past a pipe's buffer) before it reads stdin: a parent
        // that wrote stdin first and read afterwards would wait for ever.
        std::string input = pattern(8 << 20);
        sp::Popen p({"sh", "-c", "head -c 4000000 /dev/zero >&2; cat"},
                    {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
        auto [out, err] = p.communicate(input, 60s);
        REQUIRE(err == std::string(4000000, '\0'));
        REQUIRE(out == input);
        REQUIRE(p.returncode() == 0);
    });
}

TEST_CASE("communicate past its timeout throws TimeoutExpired with what it read, and resumes", "[proc][communicate]") {
    gev::testing::run([] {
        int fds = open_fds();
        {
            sp::Popen p({"sh", "-c", "echo partial; exec sleep 10"}, {.stdout = sp::PIPE});
            std::string seen;
            REQUIRE(eventually([&] {
                try {
                    p.communicate({}, 10ms);
                } catch (const sp::TimeoutExpired& e) {
                    REQUIRE(e.code() == std::errc::timed_out);
                    REQUIRE(e.timeout == 10ms);
                    seen = e.output;
                }
                return seen == "partial\n";
            }));
            REQUIRE_FALSE(p.poll().has_value());   // left running
            p.kill();
            auto [out, err] = p.communicate();
            REQUIRE(out == "partial\n");
            REQUIRE(p.returncode() == -SIGKILL);
        }
        REQUIRE(open_fds() == fds);
        REQUIRE(no_children());
    });
}

TEST_CASE("input cannot be given to a communicate that has already started", "[proc][communicate]") {
    gev::testing::run([] {
        sp::Popen p({"sleep", "10"}, {.stdin = sp::PIPE});
        REQUIRE_THROWS_AS(p.communicate("x", 1ms), sp::TimeoutExpired);
        REQUIRE_THROWS_AS(p.communicate("more", 1ms), std::system_error);
        p.kill();
        p.communicate();
    });
}

TEST_CASE("run returns a CompletedProcess and with check raises CalledProcessError", "[proc][run]") {
    gev::testing::run([] {
        auto ok = sp::run({"sh", "-c", "cat; echo e >&2"}, {.input = "in", .capture_output = true});
        REQUIRE(ok.args == std::vector<std::string>{"sh", "-c", "cat; echo e >&2"});
        REQUIRE(ok.returncode == 0);
        REQUIRE(ok.stdout == "in");
        REQUIRE(ok.stderr == "e\n");
        REQUIRE(sp::run({"sh", "-c", "exit 4"}).returncode == 4);
        try {
            sp::run({"sh", "-c", "echo o; echo e >&2; exit 5"}, {.capture_output = true, .check = true});
            FAIL("no CalledProcessError");
        } catch (const sp::CalledProcessError& e) {
            REQUIRE(e.returncode == 5);
            REQUIRE(e.output == "o\n");
            REQUIRE(e.stderr == "e\n");
            REQUIRE(e.code() == std::error_code(5, sp::returncode_category()));
            REQUIRE(std::string(e.what()) == "Command 'sh -c echo o; echo e >&2; exit 5' returned non-zero exit status 5.");
        }
    });
}

TEST_CASE("check_output returns stdout and raises CalledProcessError holding it on failure", "[proc][run]") {
    gev::testing::run([] {
        REQUIRE(sp::check_output({"echo", "hi"}) == "hi\n");
        try {
            sp::check_output({"sh", "-c", "echo half; kill -TERM $$"});
            FAIL("no CalledProcessError");
        } catch (const sp::CalledProcessError& e) {
            REQUIRE(e.returncode == -SIGTERM);
            REQUIRE(e.output == "half\n");
            REQUIRE(std::string(e.what()).find("killed by signal 15") != std::string::npos);
        }
    });
}

TEST_CASE("call returns the returncode and check_call raises on a non-zero one", "[proc][run]") {
    gev::testing::run([] {
        REQUIRE(sp::call({"sh", "-c", "exit 7"}) == 7);
        REQUIRE_NOTHROW(sp::check_call({"true"}));
        REQUIRE_THROWS_AS(sp::check_call({"false"}), sp::CalledProcessError);
    });
}

TEST_CASE("run past its timeout kills the child and leaves nothing behind", "[proc][run]") {
    gev::testing::run([] {
        int fds = open_fds();
        REQUIRE_THROWS_AS(sp::run({"sleep", "10"}, {.capture_output = true, .timeout = 20ms}), sp::TimeoutExpired);
        REQUIRE_THROWS_AS(sp::check_output({"sleep", "10"}, 20ms), sp::TimeoutExpired);
        REQUIRE(eventually([] { return no_children(); }));
        REQUIRE(open_fds() == fds);
    });
}
