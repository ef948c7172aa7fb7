// tests/proc/popen_test.cpp — Popen's start and end: exit codes, signal deaths,
// environment, working directory, every kind of redirection, close-on-exec, and a
// program that cannot start.
#include "proc_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <set>

using namespace proc_test;

TEST_CASE("a child's exit status is its returncode", "[proc][popen]") {
    gev::testing::run([] {
        REQUIRE(sp::Popen({"true"}).wait() == 0);
        REQUIRE(sp::Popen({"false"}).wait() == 1);
        sp::Popen p({"sh", "-c", "exit 3"});
        REQUIRE(p.wait() == 3);
        REQUIRE(p.returncode() == 3);
        REQUIRE(p.poll() == 3);
        REQUIRE(p.wait() == 3);   // again: no second reap
    });
}

TEST_CASE("a child ended by a signal has minus that signal as its returncode", "[proc][popen]") {
    gev::testing::run([] {
        sp::Popen term({"sleep", "10"});
        term.terminate();
        REQUIRE(term.wait() == -SIGTERM);
        sp::Popen killed({"sleep", "10"});
        killed.kill();
        REQUIRE(killed.wait() == -SIGKILL);
        sp::Popen self({"sh", "-c", "kill -USR1 $$"});
        REQUIRE(self.wait() == -SIGUSR1);
        killed.send_signal(SIGKILL);   // reaped already: nothing to signal, no error
    });
}

TEST_CASE("poll says nothing while the child runs and its returncode once it has ended", "[proc][popen]") {
    gev::testing::run([] {
        sp::Popen p({"sleep", "10"});
        REQUIRE_FALSE(p.poll().has_value());
        REQUIRE_FALSE(p.returncode().has_value());
        p.kill();
        REQUIRE(eventually([&] { return p.poll().has_value(); }));
        REQUIRE(p.returncode() == -SIGKILL);
    });
}

TEST_CASE("the child inherits the environment unless env replaces it", "[proc][popen]") {
    gev::testing::ScopedEnv outer("GEV_PROC_TEST", "inherited");
    gev::testing::run([] {
        auto inherited = sp::run({"sh", "-c", "echo $GEV_PROC_TEST"}, {.stdout = sp::PIPE});
        REQUIRE(inherited.stdout == "inherited\n");
        std::map<std::string, std::string> env{{"FOO", "bar"}};
        auto replaced = sp::run({"sh", "-c", "echo $FOO-$GEV_PROC_TEST"}, {.stdout = sp::PIPE, .env = env});
        REQUIRE(replaced.stdout == "bar-\n");
    });
}

TEST_CASE("cwd sets the child's working directory and a missing one fails the start", "[proc][popen]") {
    gev::testing::run([] {
        REQUIRE(sp::check_output({"pwd"}, gev::forever, {.cwd = "/"}) == "/\n");
        try {
            sp::Popen p({"true"}, {.cwd = "/nonexistent-gev-dir"});
            FAIL("started in a missing directory");
        } catch (const std::system_error& e) {
            REQUIRE(e.code() == std::errc::no_such_file_or_directory);
        }
        REQUIRE_FALSE(zombie_child());
    });
}

TEST_CASE("a program that does not exist throws in the parent, naming it, and leaves nothing behind", "[proc][popen]") {
    gev::testing::run([] {
        int fds = open_fds();
        for (const char* name : {"gev-no-such-program", "/nonexistent/gev-no-such-program"}) {
            try {
                sp::Popen p({name}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
                FAIL("started " << name);
            } catch (const std::system_error& e) {
                REQUIRE(e.code() == std::errc::no_such_file_or_directory);
                REQUIRE(std::string(e.what()).find(name) != std::string::npos);
            }
        }
        REQUIRE_THROWS_AS(sp::Popen({"/etc/passwd"}), std::system_error);   // not executable
        REQUIRE_THROWS_AS(sp::Popen(std::vector<std::string>{}), std::system_error);
        REQUIRE(open_fds() == fds);
        REQUIRE(no_children());
    });
}

TEST_CASE("DEVNULL gives the child an empty stdin and discards its output", "[proc][popen]") {
    gev::testing::run([] {
        auto r = sp::run({"cat"}, {.stdin = sp::DEVNULL, .stdout = sp::PIPE});
        REQUIRE(r.returncode == 0);
        REQUIRE(r.stdout.empty());
        auto split = sp::run({"sh", "-c", "echo out; echo err >&2"}, {.stdout = sp::DEVNULL, .stderr = sp::PIPE});
        REQUIRE(split.stdout.empty());
        REQUIRE(split.stderr == "err\n");
    });
}

TEST_CASE("stderr=STDOUT sends the child's stderr into its stdout pipe", "[proc][popen]") {
    gev::testing::run([] {
        auto r = sp::run({"sh", "-c", "echo out; echo err >&2"}, {.stdout = sp::PIPE, .stderr = sp::STDOUT});
        REQUIRE(r.stdout == "out\nerr\n");
        REQUIRE(r.stderr.empty());
    });
}

TEST_CASE("a given fd becomes the child's stream and stays the caller's", "[proc][popen]") {
    gev::testing::run([] {
        int in[2], out[2];
        REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(::write(in[1], "via fds", 7) == 7);
        ::close(in[1]);
        REQUIRE(sp::Popen({"cat"}, {.stdin = in[0], .stdout = out[1]}).wait() == 0);
        ::close(out[1]);
        char buf[32] = {};
        REQUIRE(::read(out[0], buf, sizeof buf) == 7);
        REQUIRE(std::string(buf) == "via fds");
        REQUIRE(::fcntl(in[0], F_GETFD) >= 0);   // still open here
        ::close(in[0]);
        ::close(out[0]);
    });
}

TEST_CASE("an inherited stream is the caller's own fd", "[proc][popen]") {
    int saved = ::dup(2), p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    ::dup2(p[1], 2);   // the test's stderr, briefly: nothing is asserted until it is back
    int rc = -1;
    gev::run([&] { rc = sp::call({"sh", "-c", "echo to-inherited >&2"}); });
    ::dup2(saved, 2);
    ::close(saved);
    ::close(p[1]);
    char buf[64] = {};
    REQUIRE(::read(p[0], buf, sizeof buf) > 0);
    ::close(p[0]);
    REQUIRE(rc == 0);
    REQUIRE(std::string(buf) == "to-inherited\n");
}

TEST_CASE("the child gets only 0, 1 and 2 unless close_fds is false", "[proc][popen]") {
    gev::testing::run([] {
        int leaky = ::open("/dev/null", O_RDONLY);   // deliberately not close-on-exec
        REQUIRE(leaky > 2);
        auto listing = [](bool close_fds) {
            std::string out = sp::check_output({"ls", "/proc/self/fd"}, gev::forever,
                                               {.stdin = sp::PIPE, .stderr = sp::PIPE, .close_fds = close_fds});
            std::set<int> fds;
            for (std::size_t at = 0; at < out.size();) {
                std::size_t nl = out.find('\n', at);
                fds.insert(std::stoi(out.substr(at, nl - at)));
                at = nl + 1;
            }
            return fds;
        };
        std::set<int> closed = listing(true);
        // ls's own directory fd is the one extra.
        REQUIRE(closed.size() == 4);
        REQUIRE(*closed.rbegin() == 3);
        REQUIRE(listing(false).count(leaky) == 1);
        ::close(leaky);
    });
}

TEST_CASE("STDOUT for stdin is refused", "[proc][popen]") {
    gev::testing::run([] {
        try {
            sp::Popen p({"true"}, {.stdin = sp::STDOUT});
            FAIL("started");
        } catch (const std::system_error& e) {
            REQUIRE(e.code() == std::errc::invalid_argument);
        }
        REQUIRE(no_children());
    });
}
