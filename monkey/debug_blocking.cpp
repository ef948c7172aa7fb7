// monkey/debug_blocking.cpp — GEV_DEBUG_BLOCKING: a watchdog thread that samples
// /proc/self/task/<tid>/syscall for every thread currently running a hub. A hub thread
// found inside the same system call for longer than the threshold is blocked: every
// other fiber of that hub is stalled. The hub's own idle waits (epoll_wait,
// io_uring_enter) are not counted. What this catches: any blocking system call on a
// hub thread — an original called on purpose, a hook that was not patched, a call the
// hooks never see (libc-internal, raw syscall(), statically linked code), a lock
// (futex). What it cannot: CPU-bound work (no system call), a user's own epoll_wait.
// Threads register themselves the first time a hook runs on them while it is on.
#include "monkey/debug_blocking.hpp"
#include "monkey/monkey.hpp"
#include "monkey/original.hpp"
#include "runtime/hub.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gev::monkey::detail {

constinit std::atomic<bool> g_debug_on{false};

namespace {

struct ThreadRec {
    pid_t tid = 0;
    gev::detail::Hub* const* hub_slot = nullptr;   // that thread's t_hub
    CallSlot call;
    std::string last;                               // what identifies the current blocked call
    std::int64_t since = 0;
    std::int64_t free_since = 0;                    // when it was last seen out of a blocking call
    bool reported = false;
};

struct Watchdog {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<ThreadRec*> threads;
    std::chrono::milliseconds threshold{100};
    std::function<void(const std::string&)> report;
    bool running = false;
    bool stop = false;
};

Watchdog& dog() {
    static Watchdog* w = new Watchdog;   // outlives every thread that may still register
    return *w;
}

struct Registration {
    std::unique_ptr<ThreadRec> rec;
    ~Registration() {
        if (!rec) return;
        std::lock_guard lock(dog().mu);
        std::erase(dog().threads, rec.get());
    }
};
thread_local Registration t_reg;

const char* syscall_name(long nr) noexcept {
    switch (nr) {
        case SYS_read: return "read";
        case SYS_write: return "write";
        case SYS_readv: return "readv";
        case SYS_writev: return "writev";
        case SYS_pread64: return "pread64";
        case SYS_pwrite64: return "pwrite64";
        case SYS_poll: return "poll";
        case SYS_ppoll: return "ppoll";
        case SYS_select: return "select";
        case SYS_pselect6: return "pselect6";
        case SYS_nanosleep: return "nanosleep";
        case SYS_clock_nanosleep: return "clock_nanosleep";
        case SYS_connect: return "connect";
        case SYS_accept: return "accept";
        case SYS_accept4: return "accept4";
        case SYS_recvfrom: return "recvfrom";
        case SYS_sendto: return "sendto";
        case SYS_recvmsg: return "recvmsg";
        case SYS_sendmsg: return "sendmsg";
        case SYS_futex: return "futex (a lock, condition variable or thread join)";
        case SYS_wait4: return "wait4";
        case SYS_fcntl: return "fcntl";
        case SYS_flock: return "flock";
        case SYS_ioctl: return "ioctl";
        case SYS_fsync: return "fsync";
        default: return nullptr;
    }
}

// The hub's own idle wait: not a blocking call of a fiber.
bool idle_wait(long nr) noexcept {
    return nr == SYS_epoll_wait || nr == SYS_epoll_pwait || nr == SYS_io_uring_enter
#ifdef SYS_epoll_pwait2
           || nr == SYS_epoll_pwait2
#endif
        ;
}

std::string sample(pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/syscall", static_cast<int>(tid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buf[256];
    ssize_t n = original::read(fd, buf, sizeof buf - 1);
    original::close(fd);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void check(ThreadRec& r, std::int64_t now, std::chrono::milliseconds threshold,
           std::vector<std::string>& out) {
    auto* hub = __atomic_load_n(r.hub_slot, __ATOMIC_RELAXED);
    std::string line = hub != nullptr ? sample(r.tid) : std::string();
    long nr = line.empty() || line.compare(0, 7, "running") == 0 ? -1 : std::strtol(line.c_str(), nullptr, 10);
    if (nr < 0 || idle_wait(nr)) {
        // A moment out of the call (the kernel ran task work, a signal) does not end
        // the episode; a whole threshold out of it does.
        if (r.free_since == 0) r.free_since = now;
        if (now - r.free_since >= threshold.count() * 1'000'000) r.last.clear();
        return;
    }
    r.free_since = 0;
    // One call of an original is one episode; otherwise the system call and its
    // arguments are, and a restart (after the kernel ran task work) continues it.
    const char* hooked = r.call.name.load(std::memory_order_relaxed);
    std::string key = hooked != nullptr ? "#" + std::to_string(r.call.seq.load(std::memory_order_relaxed)) : line;
    if (nr == SYS_restart_syscall && !r.last.empty()) key = r.last;
    if (key != r.last) {
        r.last = key;
        r.since = now;
        r.reported = false;
        return;
    }
    std::int64_t ms = (now - r.since) / 1'000'000;
    if (r.reported || ms < threshold.count()) return;
    r.reported = true;
    const char* sys = syscall_name(nr);
    std::string msg = "gev: GEV_DEBUG_BLOCKING: hub thread " + std::to_string(r.tid) + " blocked for " +
                      std::to_string(ms) + " ms in ";
    if (hooked != nullptr)
        msg += std::string(hooked) + "() from the C library (gev::monkey::original, or that part is not patched)";
    else
        msg += "the " + (sys != nullptr ? std::string(sys) : "#" + std::to_string(nr)) +
               " system call, which bypassed gev's hooks (a C library internal call, syscall(), or static code)";
    out.push_back(std::move(msg));
}

void watch() {
    Watchdog& w = dog();
    std::unique_lock lock(w.mu);
    while (!w.stop) {
        auto period = std::max(std::chrono::milliseconds(2), w.threshold / 4);
        w.cv.wait_for(lock, period, [&] { return w.stop; });
        if (w.stop) break;
        std::vector<std::string> reports;
        std::int64_t now = gev::detail::clock_ns();
        for (ThreadRec* r : w.threads) check(*r, now, w.threshold, reports);
        auto report = w.report;
        lock.unlock();
        for (const std::string& m : reports) {
            if (report) report(m);
            else std::fprintf(stderr, "%s\n", m.c_str());
        }
        lock.lock();
    }
    w.running = false;
    w.cv.notify_all();
}

}  // namespace

CallSlot* debug_slot() noexcept {
    if (t_reg.rec) return &t_reg.rec->call;
    if (gev::detail::t_hub == nullptr) return nullptr;   // only hub threads are watched
    try {
        auto rec = std::make_unique<ThreadRec>();
        rec->tid = static_cast<pid_t>(::syscall(SYS_gettid));
        rec->hub_slot = &gev::detail::t_hub;
        std::lock_guard lock(dog().mu);
        dog().threads.push_back(rec.get());
        t_reg.rec = std::move(rec);
    } catch (...) {
        return nullptr;
    }
    return &t_reg.rec->call;
}

}  // namespace gev::monkey::detail

namespace gev::monkey {

void debug_blocking(std::chrono::milliseconds threshold, std::function<void(const std::string&)> report) {
    detail::Watchdog& w = detail::dog();
    {
        std::lock_guard lock(w.mu);
        w.threshold = std::max(threshold, std::chrono::milliseconds(1));
        w.report = std::move(report);
        w.stop = false;
        if (!w.running) {
            w.running = true;
            std::thread(detail::watch).detach();   // stopped by stop_debug_blocking, else lives to exit
        }
    }
    detail::g_debug_on.store(true, std::memory_order_relaxed);
    detail::debug_slot();   // the caller's thread, if it runs a hub
}

void stop_debug_blocking() noexcept {
    detail::g_debug_on.store(false, std::memory_order_relaxed);
    detail::Watchdog& w = detail::dog();
    std::unique_lock lock(w.mu);
    w.stop = true;
    w.cv.notify_all();
    w.cv.wait(lock, [&] { return !w.running; });
    w.report = nullptr;
}

}  // namespace gev::monkey
