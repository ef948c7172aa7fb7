// tests/monkey/monkey_support.hpp — helpers for the monkey-patching tests: a runtime
// with every part patched (and unpatched again afterwards), loopback listeners and
// pairs made with the plain C calls the hooks stand in for, fd counting through
// /proc/self/fd, and a trace that fibers append to so tests assert order, not time.
#pragma once

#include "support.hpp"

#include "monkey/monkey.hpp"
#include "monkey/original.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gev::testing {

// Runs body as the main fiber with everything patched; unpatches when it ends.
template <class F>
void run_patched(F&& body) {
    gev::monkey::patch_all();
    struct Unpatch {
        ~Unpatch() { gev::monkey::unpatch_all(); }
    } unpatch;
    run(std::forward<F>(body));
}

// A blocking TCP listener on 127.0.0.1 at a port the kernel picks (plain C calls).
inline int c_listener(sockaddr_in* at) {
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(l, 16);
    socklen_t len = sizeof *at;
    ::getsockname(l, reinterpret_cast<sockaddr*>(at), &len);
    return l;
}

// A connected blocking TCP pair over loopback: {client, server}.
inline std::pair<int, int> c_tcp_pair() {
    sockaddr_in at{};
    int l = c_listener(&at);
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    ::connect(c, reinterpret_cast<sockaddr*>(&at), sizeof at);
    int s = ::accept(l, nullptr, nullptr);
    ::close(l);
    return {c, s};
}

inline bool kernel_nonblocking(int fd) {
    return (gev::monkey::original::fcntl(fd, F_GETFL, nullptr) & O_NONBLOCK) != 0;
}
inline bool caller_nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

using Trace = std::vector<std::string>;

// A fiber that counts 1 ms sleeps until stopped (or 20,000 of them): while a hooked
// call blocks, its count going up proves that the hub kept running other fibers.
class Ticker {
public:
    Ticker() : g_(gev::spawn([this] {
                   while (!stop_ && ticks_ < 20'000) {
                       ++ticks_;
                       gev::sleep(std::chrono::milliseconds(1));
                   }
               })) {}
    int ticks() const { return ticks_; }
    // Stops it and returns the ticks counted before this call.
    int finish() {
        int n = ticks_;
        stop_ = true;
        g_.get();
        return n;
    }

private:
    int ticks_ = 0;
    bool stop_ = false;
    gev::Greenlet<> g_;
};

// Runs `rescue` on a plain thread if the test is still running after `limit`: a hook
// that blocks the hub instead of parking then fails its test instead of hanging it.
class Watchdog {
public:
    Watchdog(std::function<void()> rescue, std::chrono::milliseconds limit = std::chrono::milliseconds(5000))
        : t_([this, rescue = std::move(rescue), limit] {
              std::unique_lock lock(mu_);
              if (!cv_.wait_for(lock, limit, [this] { return done_; })) rescue();
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mu_);
            done_ = true;
        }
        cv_.notify_all();
        t_.join();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread t_;
};

}  // namespace gev::testing
