// proc/popen.cpp — Popen's life: start (spawn.cpp), wait on the pidfd through the
// poller, reap with waitid(P_PIDFD), signal with pidfd_send_signal, and on destruction
// hand a child still running to the reaper thread (reaper.cpp). communicate is in
// communicate.cpp.
#include "proc/popen.hpp"

#include "proc/reaper.hpp"
#include "proc/spawn.hpp"
#include "runtime/errors.hpp"
#include "runtime/hub.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace gev::subprocess {

Popen::Popen(std::vector<std::string> args, const PopenOptions& options) : args_(std::move(args)) {
    proc_detail::Child c = proc_detail::spawn_child(args_, options);
    pid_ = c.pid;
    pidfd_ = c.pidfd;
    // Adopting cannot fail here: the fds are ours and already non-blocking.
    if (c.parent[0] >= 0) stdin = Pipe::adopt(c.parent[0]);
    if (c.parent[1] >= 0) stdout = Pipe::adopt(c.parent[1]);
    if (c.parent[2] >= 0) stderr = Pipe::adopt(c.parent[2]);
}

Popen::Popen(Popen&& o) noexcept
    : stdin(std::move(o.stdin)), stdout(std::move(o.stdout)), stderr(std::move(o.stderr)),
      args_(std::move(o.args_)), pid_(std::exchange(o.pid_, -1)), pidfd_(std::exchange(o.pidfd_, -1)),
      returncode_(o.returncode_), communicating_(o.communicating_), input_(std::move(o.input_)), fed_(o.fed_),
      out_(std::move(o.out_)), err_(std::move(o.err_)) {}

Popen& Popen::operator=(Popen&& o) noexcept {
    if (this != &o) {
        release();
        stdin = std::move(o.stdin);
        stdout = std::move(o.stdout);
        stderr = std::move(o.stderr);
        args_ = std::move(o.args_);
        pid_ = std::exchange(o.pid_, -1);
        pidfd_ = std::exchange(o.pidfd_, -1);
        returncode_ = o.returncode_;
        communicating_ = o.communicating_;
        input_ = std::move(o.input_);
        fed_ = o.fed_;
        out_ = std::move(o.out_);
        err_ = std::move(o.err_);
    }
    return *this;
}

Popen::~Popen() { release(); }

void Popen::release() noexcept {
    stdin.close();
    stdout.close();
    stderr.close();
    if (pidfd_ >= 0) proc_detail::reap_later(std::exchange(pidfd_, -1));
}

// Reaps without blocking; says whether the child is reaped (returncode_ set).
bool Popen::try_reap() {
    if (returncode_) return true;
    if (pidfd_ < 0) throw std::system_error(EBADF, std::generic_category(), "gev::subprocess::Popen: no child");
    int status = 0;
    int r;
    while ((r = proc_detail::reap(pidfd_, WNOHANG, status)) == -EINTR) {
    }
    if (r == 0) return false;
    if (r < 0) throw std::system_error(-r, std::generic_category(), "waitid pid " + std::to_string(pid_));
    returncode_ = status;
    gev::detail::forget_fd(pidfd_);   // wakes a fiber parked in wait() on another path
    ::close(std::exchange(pidfd_, -1));
    return true;
}

std::optional<int> Popen::poll() {
    try_reap();
    return returncode_;
}

int Popen::wait(MaybeDuration timeout) {
    if (try_reap()) return *returncode_;
    gev::detail::Hub& hub = gev::detail::Hub::require("gev::subprocess::Popen::wait");
    return wait_until(timeout ? hub.deadline_after(*timeout) : -1, timeout);
}

// Parks on the pidfd until the child ends or `deadline` (the hub's clock, <0: none);
// `timeout` is what TimeoutExpired reports. A poll on a pidfd is a watch (io.hpp), so
// any number of fibers wait on one child at once.
int Popen::wait_until(std::int64_t deadline, MaybeDuration timeout) {
    gev::detail::Hub& hub = gev::detail::Hub::require("gev::subprocess::Popen::wait");
    while (!try_reap()) {
        gev::detail::IoOp op;
        op.kind = gev::detail::IoKind::poll;
        op.fd = pidfd_;
        op.flags = POLLIN;
        op.use = gev::detail::FdUse::raw;
        gev::detail::IoResult r = hub.poller().io(op, deadline);
        if (r.outcome == gev::detail::WaitOutcome::timed_out || (r.ready() && r.res == -ETIMEDOUT))
            throw TimeoutExpired(args_, timeout.value_or(Duration{0}), out_, err_);
        if (r.ready() && r.res < 0 && r.res != -ECANCELED)
            throw std::system_error(-r.res, std::generic_category(), "wait pid " + std::to_string(pid_));
        // Closed: another fiber reaped the child and closed the pidfd.
    }
    return *returncode_;
}

void Popen::send_signal(int sig) {
    if (returncode_ || pidfd_ < 0) return;   // Python: never signal a child known to be gone
    if (::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0) < 0 && errno != ESRCH)
        throw std::system_error(errno, std::generic_category(),
                                "pidfd_send_signal " + std::to_string(sig) + " to pid " + std::to_string(pid_));
}

void Popen::terminate() { send_signal(SIGTERM); }
void Popen::kill() { send_signal(SIGKILL); }

}  // namespace gev::subprocess
