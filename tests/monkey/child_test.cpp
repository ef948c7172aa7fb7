// tests/monkey/child_test.cpp — waiting for children under monkey patching, from plain
// C callers: waitpid/wait4/waitid/wait park only their fiber (a pidfd for one child,
// growing pauses for any child), WNOHANG and calls off a fiber are the C library's,
// results and errno are its own, and a Timeout leaves the child waitable. system()
// and popen/pclose run the shell while other fibers run, with glibc's return values.
#include "monkey_support.hpp"
#include "plain_calls.hpp"

#include <signal.h>
#include <spawn.h>

#include <cerrno>
#include <cstring>
#include <string>

extern char** environ;

using namespace std::chrono_literals;
using namespace gev::testing;

namespace {

// A child shell that runs `script` with `in` as its stdin.
pid_t spawn_sh(const std::string& script, int in = -1) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in >= 0) posix_spawn_file_actions_adddup2(&fa, in, 0);
    char sh[] = "sh", c[] = "-c";
    std::string s = script;
    char* argv[] = {sh, c, s.data(), nullptr};
    pid_t pid = -1;
    REQUIRE(::posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

// A pipe whose read end a child waits on: the child ends once `release` writes a line.
struct Gate {
    int p[2];
    Gate() { REQUIRE(::pipe(p) == 0); }
    ~Gate() {
        ::close(p[0]);
        ::close(p[1]);
    }
    void release() { gev::monkey::original::write(p[1], "go\n", 3); }
    // A fiber that ticks three times, then releases the child.
    gev::Greenlet<> release_after_ticks(Trace& trace) {
        return gev::spawn([this, &trace] {
            for (int i = 0; i < 3; ++i) gev::sleep(1ms);
            trace.push_back("release");
            release();
        });
    }
};

int fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) ++n;
        ::closedir(d);
    }
    return n;
}

}  // namespace

TEST_CASE("a blocking waitpid on one child parks only its fiber, and returns its status", "[monkey][child]") {
    run_patched([] {
        Gate gate;
        pid_t pid = spawn_sh("read x; exit 7", gate.p[0]);
        Trace trace;
        auto releaser = gate.release_after_ticks(trace);
        Watchdog rescue([&] { gate.release(); });
        int status = 0;
        errno = 1234;
        trace.push_back("wait");
        pid_t r = plain_waitpid(pid, &status, 0);
        trace.push_back("waited");
        releaser.get();
        CHECK(trace == Trace{"wait", "release", "waited"});
        CHECK(r == pid);
        CHECK(errno == 1234);   // untouched on success
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 7);
    });
}

TEST_CASE("waitpid for any child parks, and finds whichever child ended", "[monkey][child]") {
    run_patched([] {
        Gate gate;
        pid_t pid = spawn_sh("read x; exit 3", gate.p[0]);
        Trace trace;
        auto releaser = gate.release_after_ticks(trace);
        Watchdog rescue([&] { gate.release(); });
        int status = 0;
        trace.push_back("wait");
        pid_t r = plain_wait(&status);
        trace.push_back("waited");
        releaser.get();
        CHECK(trace == Trace{"wait", "release", "waited"});
        CHECK(r == pid);
        CHECK(WEXITSTATUS(status) == 3);
        errno = 0;
        CHECK(plain_waitpid(-1, &status, 0) == -1);   // no child left
        CHECK(errno == ECHILD);
    });
}

TEST_CASE("wait4 and waitid park and report the C library's results", "[monkey][child]") {
    run_patched([] {
        {
            Gate gate;
            pid_t pid = spawn_sh("read x; exit 4", gate.p[0]);
            Trace trace;
            auto releaser = gate.release_after_ticks(trace);
            Watchdog rescue([&] { gate.release(); });
            int status = 0;
            rusage ru{};
            CHECK(plain_wait4(pid, &status, 0, &ru) == pid);
            releaser.get();
            CHECK(trace == Trace{"release"});
            CHECK(WEXITSTATUS(status) == 4);
        }
        for (idtype_t type : {P_PID, P_ALL}) {
            Gate gate;
            pid_t pid = spawn_sh("read x; exit 5", gate.p[0]);
            Trace trace;
            auto releaser = gate.release_after_ticks(trace);
            Watchdog rescue([&] { gate.release(); });
            siginfo_t info{};
            CHECK(plain_waitid(type, type == P_PID ? static_cast<id_t>(pid) : 0, &info, WEXITED) == 0);
            releaser.get();
            CHECK(trace == Trace{"release"});
            CHECK(info.si_pid == pid);
            CHECK(info.si_code == CLD_EXITED);
            CHECK(info.si_status == 5);
        }
    });
}

TEST_CASE("WNOHANG is the C library's call, and a process that is not a child gets ECHILD", "[monkey][child]") {
    run_patched([] {
        Gate gate;
        pid_t pid = spawn_sh("read x", gate.p[0]);
        int status = 0;
        CHECK(plain_waitpid(pid, &status, WNOHANG) == 0);   // still running: no wait
        siginfo_t info{};
        info.si_pid = 99;
        CHECK(plain_waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == 0);
        CHECK(info.si_pid == 0);
        errno = 0;
        CHECK(plain_waitpid(1, &status, 0) == -1);
        CHECK(errno == ECHILD);
        errno = 0;
        CHECK(plain_waitpid(pid, &status, 0x100 | WUNTRACED) == -1);   // an unknown option
        CHECK(errno == EINVAL);
        gate.release();
        CHECK(plain_waitpid(pid, &status, 0) == pid);
    });
}

TEST_CASE("waitpid with WUNTRACED reports a stopped child", "[monkey][child]") {
    run_patched([] {
        pid_t pid = spawn_sh("kill -STOP $$; exit 9");
        Ticker ticker;
        int status = 0;
        CHECK(plain_waitpid(pid, &status, WUNTRACED) == pid);
        ticker.finish();
        CHECK(WIFSTOPPED(status));
        CHECK(WSTOPSIG(status) == SIGSTOP);
        REQUIRE(::kill(pid, SIGCONT) == 0);
        CHECK(plain_waitpid(pid, &status, 0) == pid);
        CHECK(WEXITSTATUS(status) == 9);
    });
}

TEST_CASE("a Timeout ends a parked waitpid, closes its pidfd, and leaves the child waitable", "[monkey][child]") {
    run_patched([] {
        Gate gate;
        pid_t pid = spawn_sh("read x; exit 2", gate.p[0]);
        int before = fd_count();
        int status = 0;
        bool timed_out = false;
        try {
            gev::Timeout limit{20ms};
            plain_waitpid(pid, &status, 0);
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        CHECK(timed_out);
        CHECK(fd_count() == before);
        gate.release();
        CHECK(plain_waitpid(pid, &status, 0) == pid);
        CHECK(WEXITSTATUS(status) == 2);
    });
}

TEST_CASE("waitpid off a fiber is the C library's blocking call", "[monkey][child]") {
    gev::monkey::patch_all();
    pid_t pid = spawn_sh("exit 6");
    int status = 0;
    pid_t r = -2;
    std::thread([&] { r = plain_waitpid(pid, &status, 0); }).join();
    CHECK(r == pid);
    CHECK(WEXITSTATUS(status) == 6);
    gev::monkey::unpatch_all();
}

TEST_CASE("system runs the shell while other fibers run and keeps glibc's return values", "[monkey][child][system]") {
    run_patched([] {
        Gate gate;
        Trace trace;
        auto releaser = gate.release_after_ticks(trace);
        Watchdog rescue([&] { gate.release(); });
        std::string cmd = "read x <&" + std::to_string(gate.p[0]) + "; exit 3";
        trace.push_back("system");
        int status = plain_system(cmd.c_str());
        trace.push_back("done");
        releaser.get();
        CHECK(trace == Trace{"system", "release", "done"});
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 3);
        CHECK(plain_system(nullptr) != 0);   // a shell is available
        CHECK(WEXITSTATUS(plain_system("exec /nonexistent/gev-no-such-program 2>/dev/null")) == 127);
        int killed = plain_system("kill -TERM $$");
        CHECK(WIFSIGNALED(killed));
        CHECK(WTERMSIG(killed) == SIGTERM);
    });
}

TEST_CASE("a Timeout during system kills and reaps its child", "[monkey][child][system]") {
    run_patched([] {
        Gate gate;
        std::string cmd = "read x <&" + std::to_string(gate.p[0]);
        bool timed_out = false;
        try {
            gev::Timeout limit{20ms};
            plain_system(cmd.c_str());
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        CHECK(timed_out);
        int status = 0;
        errno = 0;
        CHECK(gev::monkey::original::waitpid(-1, &status, WNOHANG) == -1);   // no child, no zombie
        CHECK(errno == ECHILD);
    });
}

TEST_CASE("fgets on a popen stream parks its fiber, and pclose waits for the child", "[monkey][child][popen]") {
    run_patched([] {
        Gate gate;
        Trace trace;
        auto releaser = gate.release_after_ticks(trace);
        Watchdog rescue([&] { gate.release(); });
        std::string cmd = "read x <&" + std::to_string(gate.p[0]) + "; echo got $x; exit 4";
        FILE* f = plain_popen(cmd.c_str(), "r");
        REQUIRE(f != nullptr);
        char line[64] = {};
        trace.push_back("fgets");
        REQUIRE(plain_fgets(line, sizeof line, f) != nullptr);
        trace.push_back(line);
        releaser.get();
        CHECK(trace == Trace{"fgets", "release", "got go\n"});
        CHECK(plain_fgets(line, sizeof line, f) == nullptr);   // end of the child's output
        int status = plain_pclose(f);
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 4);
    });
}

TEST_CASE("a popen stream for writing feeds the child, and pclose parks until it ends", "[monkey][child][popen]") {
    run_patched([] {
        char path[] = "/tmp/gev_popen_XXXXXX";
        int fd = ::mkstemp(path);
        REQUIRE(fd >= 0);
        ::close(fd);
        std::string cmd = std::string("sleep 0.02; cat > ") + path;
        FILE* f = plain_popen(cmd.c_str(), "w");
        REQUIRE(f != nullptr);
        CHECK(plain_fputs("hello popen\n", f) >= 0);
        Ticker ticker;
        CHECK(plain_pclose(f) == 0);
        CHECK(ticker.finish() > 0);
        char buf[64] = {};
        int in = ::open(path, O_RDONLY);
        CHECK(::read(in, buf, sizeof buf) == 12);
        CHECK(std::string(buf) == "hello popen\n");
        ::close(in);
        ::unlink(path);
        errno = 0;
        CHECK(plain_popen("true", "x") == nullptr);
        CHECK(errno == EINVAL);
    });
}

TEST_CASE("popen and pclose off a fiber are the C library's", "[monkey][child][popen]") {
    gev::monkey::patch_all();
    FILE* f = plain_popen("echo plain", "r");
    REQUIRE(f != nullptr);
    CHECK(::fileno(f) >= 0);   // glibc's own stream
    char line[32] = {};
    CHECK(plain_fgets(line, sizeof line, f) != nullptr);
    CHECK(std::string(line) == "plain\n");
    CHECK(plain_pclose(f) == 0);
    gev::monkey::unpatch_all();
}

TEST_CASE("stdio's own reads bypass the hooks, which is why popen's stream is gev's", "[monkey][child][popen]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        FILE* f = ::fdopen(p[0], "r");
        REQUIRE(f != nullptr);
        Trace trace;
        auto writer = gev::spawn([&] {
            trace.push_back("writer");
            gev::monkey::original::write(p[1], "x\n", 2);
        });
        Watchdog rescue([&] { gev::monkey::original::write(p[1], "w\n", 2); }, 50ms);
        char line[8] = {};
        REQUIRE(plain_fgets(line, sizeof line, f) != nullptr);   // glibc's internal read: the thread blocks
        trace.push_back(line);
        writer.get();
        CHECK(trace == Trace{"w\n", "writer"});   // the writer fiber ran only afterwards
        ::fclose(f);
        ::close(p[1]);
    });
}
