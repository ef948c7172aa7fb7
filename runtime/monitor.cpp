// runtime/monitor.cpp — the blocked-hub watchdog (see monitor.hpp). The hot path pays
// one relaxed store per dispatch (Hub::watch_word); everything else happens here, on
// the monitor thread, and in a signal handler on a stalled hub's thread, which names
// the running fiber and writes its backtrace with write(2). A hub that looks stalled
// only because the machine did not give its thread the CPU (runnable, but hardly any
// CPU time used) is not reported.
#include "runtime/monitor.hpp"

#include "runtime/fork_hooks.hpp"
#include "runtime/hub.hpp"
#include "runtime/safe_write.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gev::detail {
namespace {

// SIGURG (as Go's preemption uses): ignored by default and rarely used by programs.
constexpr int kSignal = SIGURG;

struct Watched {
    Hub* hub;
    pthread_t thread;
    pid_t tid;
    std::uint64_t word = 0;      // watch_word() when last seen moving
    std::int64_t since = 0;      // when it was first seen with that word
    std::int64_t cpu_since = 0;  // the thread's CPU time then
    bool reported = false;
};

struct Loop {
    bool stop = false;
};

struct Monitor {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Watched> hubs;
    std::shared_ptr<Loop> loop;    // the running monitor thread's, or null
    std::thread thread;
    std::int64_t threshold_ns = 100'000'000;
    Monitor* before_fork = nullptr;   // the parent's, kept reachable in a forked child
};

// Never destroyed: no thread is joined at exit. gev::fork's child replaces it (the
// parent's thread, its condition variable's waiters and its mutex are not the child's).
std::atomic<Monitor*> g_monitor{nullptr};

Monitor& monitor() {
    static std::once_flag once;
    std::call_once(once, [] { g_monitor.store(new Monitor, std::memory_order_release); });
    return *g_monitor.load(std::memory_order_acquire);
}

std::atomic<std::size_t> g_watched{0};

// The request the monitor thread sends with kSignal; one at a time (under Monitor::mu).
std::atomic<bool> g_pending{false};
std::atomic<bool> g_answered{false};
std::atomic<std::uint64_t> g_word{0};
std::atomic<std::int64_t> g_stalled_ms{0};
std::atomic<std::int64_t> g_threshold_ms{0};
struct sigaction g_prev_action;

bool enabled(std::optional<bool> option) {
    if (option) return *option;
    if (const char* env = std::getenv("GEV_MONITOR"); env != nullptr && *env != '\0') return std::strcmp(env, "0") != 0;
#ifdef NDEBUG
    return false;
#else
    return true;
#endif
}

std::int64_t thread_cpu_ns(pthread_t t) {
    clockid_t id;
    timespec ts{};
    if (pthread_getcpuclockid(t, &id) != 0 || clock_gettime(id, &ts) != 0) return 0;
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Whether the thread is runnable (waiting for a CPU, or on one) rather than asleep in a syscall.
bool runnable(pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* paren = std::strrchr(buf, ')');   // the name may hold spaces and parens
    return paren != nullptr && paren[1] == ' ' && paren[2] == 'R';
}

extern "C" void on_request(int sig, siginfo_t* si, void* uc) {
    if (!g_pending.exchange(false)) {   // not ours (out-of-band data): the previous handler's
        if (g_prev_action.sa_flags & SA_SIGINFO) {
            if (g_prev_action.sa_sigaction != nullptr) g_prev_action.sa_sigaction(sig, si, uc);
        } else if (g_prev_action.sa_handler != SIG_DFL && g_prev_action.sa_handler != SIG_IGN) {
            g_prev_action.sa_handler(sig);
        }
        return;
    }
    int saved = errno;
    Hub* hub = t_hub;
    Fiber* f = t_current;
    {
        SafeWriter w(2);
        w.str("gev: hub ").num(hub != nullptr ? hub->index() : 0).str(" blocked for at least ");
        w.num(static_cast<std::uint64_t>(g_stalled_ms.load())).str(" ms (threshold ");
        w.num(static_cast<std::uint64_t>(g_threshold_ms.load())).str(" ms) by ");
        if (hub != nullptr && hub->watch_word() != g_word.load()) w.str("a fiber that has switched since; now ");
        if (f == nullptr || f->kind == FiberKind::root) {
            w.str("the hub's own loop\n");
        } else {
            w.fiber(f).str(", spawned at ");
            if (f->debug.spawn_site != nullptr) w.code_address(f->debug.spawn_site);
            else w.str("-\n");
        }
        w.str("gev: its backtrace:\n");
    }
    write_backtrace(2, 2, 24);
    g_answered.store(true);
    errno = saved;
}

void install_request_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        warm_backtrace();
        struct sigaction sa {};
        sa.sa_sigaction = on_request;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        ::sigaction(kSignal, &sa, &g_prev_action);
    });
}

// Asks the stalled hub's thread for its fiber and backtrace; waits up to 200 ms.
void report(Monitor& m, const Watched& w, std::int64_t stalled_ns) {
    g_word.store(w.word);
    g_stalled_ms.store(stalled_ns / 1'000'000);
    g_threshold_ms.store(m.threshold_ns / 1'000'000);
    g_answered.store(false);
    g_pending.store(true);
    if (pthread_kill(w.thread, kSignal) == 0) {
        for (int i = 0; i < 200 && !g_answered.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (g_answered.load()) return;
    }
    g_pending.store(false);
    std::fprintf(stderr, "gev: hub %u blocked for at least %lld ms (threshold %lld ms); its thread did not answer\n",
                 w.hub->index(), static_cast<long long>(stalled_ns / 1'000'000),
                 static_cast<long long>(m.threshold_ns / 1'000'000));
}

void check(Monitor& m, Watched& w, std::int64_t now) {
    std::uint64_t word = w.hub->watch_word();
    if (word != w.word || (word & 1) == 0) {
        if (w.reported)
            std::fprintf(stderr, "gev: hub %u switched again after about %lld ms\n", w.hub->index(),
                         static_cast<long long>((now - w.since) / 1'000'000));
        w.word = word;
        w.since = now;
        w.cpu_since = (word & 1) != 0 ? thread_cpu_ns(w.thread) : 0;
        w.reported = false;
        return;
    }
    std::int64_t stalled = now - w.since;
    if (w.reported || stalled < m.threshold_ns) return;
    if (thread_cpu_ns(w.thread) - w.cpu_since < stalled / 16 && runnable(w.tid)) return;   // starved, not stuck
    w.reported = true;
    report(m, w, stalled);
}

void run_loop(std::shared_ptr<Loop> me) {
    Monitor& m = monitor();
    std::unique_lock lock(m.mu);
    while (!me->stop) {
        m.cv.wait_for(lock, std::chrono::nanoseconds(m.threshold_ns / 2));
        if (me->stop) break;
        std::int64_t now = clock_ns();
        for (Watched& w : m.hubs) check(m, w, now);
    }
}

std::int64_t threshold_from_env() {
    const char* env = std::getenv("GEV_MONITOR_THRESHOLD_MS");
    long long ms = env != nullptr ? std::atoll(env) : 0;
    return (ms > 0 ? ms : 100) * 1'000'000;
}

}  // namespace

void monitor_hub(Hub* hub, std::optional<bool> enable) noexcept {
    if (!enabled(enable)) return;
    Monitor& m = monitor();
    try {
        std::lock_guard lock(m.mu);
        if (!m.loop) {
            install_request_handler();
            m.threshold_ns = threshold_from_env();
            m.loop = std::make_shared<Loop>();
            m.thread = std::thread(run_loop, m.loop);
        }
        m.hubs.push_back(Watched{hub, pthread_self(), static_cast<pid_t>(::syscall(SYS_gettid))});
        g_watched.fetch_add(1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gev: the watchdog could not start: %s\n", e.what());
    }
}

void monitor_fork_lock() noexcept { monitor().mu.lock(); }
void monitor_fork_unlock() noexcept { monitor().mu.unlock(); }

void monitor_after_fork_child(Hub* hub) noexcept {
    Monitor* old = &monitor();
    bool watched = std::any_of(old->hubs.begin(), old->hubs.end(), [hub](const Watched& w) { return w.hub == hub; });
    // The old monitor stays allocated and locked: its std::thread names a thread that
    // does not exist here and must be neither joined nor destroyed.
    auto* fresh = new Monitor;
    fresh->before_fork = old;
    g_monitor.store(fresh, std::memory_order_release);
    g_watched.store(0);
    g_pending.store(false);   // a request of the parent's monitor, not ours
    if (watched) monitor_hub(hub, true);
}

void unmonitor_hub(Hub* hub) noexcept {
    if (g_watched.load() == 0) return;
    Monitor& m = monitor();
    std::thread done;
    {
        std::lock_guard lock(m.mu);
        auto it = std::find_if(m.hubs.begin(), m.hubs.end(), [hub](const Watched& w) { return w.hub == hub; });
        if (it == m.hubs.end()) return;
        m.hubs.erase(it);
        g_watched.fetch_sub(1);
        if (!m.hubs.empty()) return;
        m.loop->stop = true;
        m.loop.reset();
        done = std::move(m.thread);
    }
    m.cv.notify_all();
    done.join();
}

}  // namespace gev::detail
