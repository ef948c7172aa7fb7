// proc/popen.hpp — gev::subprocess::Popen, gevent.subprocess.Popen in C++: a child
// started with posix_spawn and watched through a pidfd, so wait() parks only the calling
// fiber (the poller waits for the pidfd on both backends) and reaping is waitid(P_PIDFD).
// A Popen belongs to the hub of the thread that created it. Dropped while its child runs,
// it leaves the child running and the process's reaper thread collects its exit (README
// "Processes"): no zombie, no fd left open.
#pragma once

#include "proc/errors.hpp"
#include "proc/pipe.hpp"
#include "runtime/clock.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gev::subprocess {

// Where one of the child's stdin, stdout, stderr goes: Python's None (inherit), PIPE,
// DEVNULL, STDOUT (stderr only) or an fd of the caller's (implicit from int; the caller
// keeps it open and owns it).
struct Redirect {
    enum class Kind : unsigned char { inherit, pipe, devnull, to_stdout, fd };
    constexpr Redirect() noexcept = default;
    constexpr Redirect(Kind k) noexcept : kind(k) {}
    constexpr Redirect(int f) noexcept : kind(Kind::fd), fd(f) {}
    Kind kind = Kind::inherit;
    int fd = -1;
};
inline constexpr Redirect INHERIT{Redirect::Kind::inherit};
inline constexpr Redirect PIPE{Redirect::Kind::pipe};
inline constexpr Redirect DEVNULL{Redirect::Kind::devnull};
inline constexpr Redirect STDOUT{Redirect::Kind::to_stdout};

// Popen's keyword arguments, in Python's order. The names stdin/stdout/stderr are
// glibc macros that expand to themselves, so they stay usable as member names.
struct PopenOptions {
    Redirect stdin{};
    Redirect stdout{};
    Redirect stderr{};
    bool close_fds = true;   // false: the child also inherits fds opened without O_CLOEXEC
    std::string cwd{};       // empty: the caller's
    std::optional<std::map<std::string, std::string>> env{};   // unset: the caller's environment
};

class Popen {
public:
    // Starts args[0] (searched in PATH when it has no '/'; the caller's PATH) with
    // args. Returns once the child has exec'd. Throws std::system_error naming the
    // program when it cannot start ("posix_spawn nosuch: No such file or directory").
    explicit Popen(std::vector<std::string> args, const PopenOptions& options = {});
    Popen(Popen&& o) noexcept;
    Popen& operator=(Popen&& o) noexcept;
    Popen(const Popen&) = delete;
    Popen& operator=(const Popen&) = delete;
    // Closes the pipes; a child still running is left running and reaped later.
    ~Popen();

    const std::vector<std::string>& args() const noexcept { return args_; }
    int pid() const noexcept { return pid_; }
    // The exit status once reaped; -N when signal N ended the child.
    std::optional<int> returncode() const noexcept { return returncode_; }

    // Reaps the child if it has ended, without waiting; returns returncode().
    std::optional<int> poll();
    // Parks until the child ends; returns its returncode. Throws TimeoutExpired past
    // `timeout` (the child keeps running). Several fibers may wait at once.
    int wait(MaybeDuration timeout = forever);
    // Writes input to stdin (then closes it) while reading stdout and stderr to their
    // end, all at once (no deadlock however large), then waits. Returns {stdout, stderr}
    // ("" for a stream that is not a PIPE). Throws TimeoutExpired past `timeout`
    // holding what was read so far; a later call resumes (input only on the first).
    std::pair<std::string, std::string> communicate(std::string_view input = {}, MaybeDuration timeout = forever);

    // pidfd_send_signal; nothing once the child has been reaped.
    void send_signal(int sig);
    void terminate();   // SIGTERM
    void kill();        // SIGKILL

    Pipe stdin;
    Pipe stdout;
    Pipe stderr;

private:
    bool try_reap();
    int wait_until(std::int64_t deadline, MaybeDuration timeout);
    void feed();
    void release() noexcept;

    std::vector<std::string> args_;
    int pid_ = -1;
    int pidfd_ = -1;   // open until reaped
    std::optional<int> returncode_;
    // communicate()'s progress, kept across a TimeoutExpired.
    bool communicating_ = false;
    std::string input_;
    std::size_t fed_ = 0;
    std::string out_, err_;
};

}  // namespace gev::subprocess
