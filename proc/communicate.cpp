// proc/communicate.cpp — Popen::communicate: one fiber per open pipe (stdin fed,
// stdout and stderr drained), so a child that fills one pipe while we write the other
// never deadlocks us. Their progress lives in the Popen, so a TimeoutExpired (or a
// gev::Timeout, or a kill) loses nothing: the workers are stopped, under a Shield,
// before communicate returns or throws, and the next call resumes.
#include "proc/popen.hpp"

#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"
#include "runtime/joinall.hpp"
#include "runtime/shield.hpp"

#include <cerrno>
#include <exception>

namespace gev::subprocess {
namespace {

// Reads p to its end into `out`, then closes it.
void drain(Pipe& p, std::string& out) {
    std::string chunk(64 * 1024, '\0');
    while (std::size_t n = p.read(std::as_writable_bytes(std::span(chunk)))) out.append(chunk, 0, n);
    p.close();
}

// A worker's failure is kept for communicate to rethrow, not reported as a failed
// fiber; a kill (GreenletExit, not a std::exception) passes through.
template <class F>
auto worker(std::exception_ptr& failure, F body) {
    return gev::spawn([&failure, body]() mutable {
        try {
            body();
        } catch (const std::exception&) {
            failure = std::current_exception();
        }
    });
}

}  // namespace

// Writes what is left of the input, then closes stdin; a child that exits (or closes
// its stdin) without reading it all is not an error, as in Python.
void Popen::feed() {
    try {
        while (fed_ < input_.size())
            fed_ += stdin.write(std::string_view(input_).substr(fed_, 1 << 20));
    } catch (const std::system_error& e) {
        if (e.code() != std::errc::broken_pipe) throw;
    }
    stdin.close();
}

std::pair<std::string, std::string> Popen::communicate(std::string_view input, MaybeDuration timeout) {
    gev::detail::Hub& hub = gev::detail::Hub::require("gev::subprocess::Popen::communicate");
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    if (communicating_ && !input.empty())
        throw std::system_error(EINVAL, std::generic_category(),
                                "communicate: cannot send input after starting communication");
    if (!communicating_) {
        communicating_ = true;
        input_ = input;
        if (input_.empty()) stdin.close();
    }
    std::exception_ptr failures[3];
    std::vector<Greenlet<>> workers;
    if (stdin) workers.push_back(worker(failures[0], [this] { feed(); }));
    if (stdout) workers.push_back(worker(failures[1], [this] { drain(stdout, out_); }));
    if (stderr) workers.push_back(worker(failures[2], [this] { drain(stderr, err_); }));
    {
        struct Stop {
            std::vector<Greenlet<>>& ws;
            ~Stop() {
                // The workers touch this Popen: they end before we go, whatever ends us;
                // a kill or Timeout arriving meanwhile stays pending for the caller.
                Shield shield;
                killall(ws);
            }
        } stop{workers};
        MaybeDuration left;
        if (timeout) left = Duration(std::max<std::int64_t>(0, deadline - hub.deadline_after(Duration{0})));
        if (joinall(workers, left).size() != workers.size())
            throw TimeoutExpired(args_, *timeout, out_, err_);
    }
    for (const std::exception_ptr& f : failures)
        if (f) std::rethrow_exception(f);
    wait_until(deadline, timeout);
    return {std::exchange(out_, {}), std::exchange(err_, {})};
}

}  // namespace gev::subprocess
