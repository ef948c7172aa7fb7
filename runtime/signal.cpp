// runtime/signal.cpp — the self-pipe behind signal_handler.
#include "runtime/signal.hpp"

#include "runtime/errors.hpp"
#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <vector>

namespace gev {
namespace detail {
namespace {

struct Entry {
    int sig;
    Hub* hub;
    std::function<void()> fn;
};

struct Registry {
    std::mutex mu;
    int pipe_rd = -1;
    std::map<std::uint64_t, Entry> handlers;
    std::map<int, struct sigaction> previous;   // per signal with at least one handler
    std::vector<Hub*> readers;                  // hubs with a reader fiber
    std::uint64_t next_id = 1;
};

Registry& registry() {
    static Registry* r = new Registry;   // outlives every thread that may still signal
    return *r;
}

volatile int g_pipe_wr = -1;

extern "C" void on_signal(int sig) {
    int saved = errno;
    unsigned char b = static_cast<unsigned char>(sig);
    [[maybe_unused]] ssize_t r = ::write(g_pipe_wr, &b, 1);
    errno = saved;
}

void dispatch(Hub* hub, int sig) {
    std::vector<std::function<void()>> fns;
    {
        std::lock_guard lock(registry().mu);
        for (auto& [id, e] : registry().handlers)
            if (e.sig == sig && e.hub == hub) fns.push_back(e.fn);
    }
    for (auto& fn : fns) gev::spawn(std::move(fn));
}

// The fiber that reads signal numbers from the pipe on this hub.
void reader_loop(Hub* hub, int fd) {
    struct Leave {   // killed when its hub ends: the next hub on this thread needs its own
        Hub* hub;
        ~Leave() {
            std::lock_guard lock(registry().mu);
            std::erase(registry().readers, hub);
        }
    } leave{hub};
    for (;;) {
        unsigned char buf[64];
        IoOp op;
        op.kind = IoKind::read;
        op.fd = fd;
        op.buf = buf;
        op.len = sizeof buf;
        int n = hub->poller().io(op, -1);
        if (n <= 0) continue;
        for (int i = 0; i < n; ++i) dispatch(hub, buf[i]);
    }
}

}  // namespace
}  // namespace detail

SignalHandler signal_handler(int sig, std::function<void()> f) {
    using namespace detail;
    Hub& hub = Hub::require("gev::signal_handler");
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    if (r.pipe_rd < 0) {
        int p[2];
        if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "gev::signal_handler: pipe");
        r.pipe_rd = p[0];
        g_pipe_wr = p[1];
    }
    if (r.previous.find(sig) == r.previous.end()) {
        struct sigaction sa {}, old{};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (::sigaction(sig, &sa, &old) != 0)
            throw std::system_error(errno, std::generic_category(), "gev::signal_handler: sigaction " + std::to_string(sig));
        r.previous[sig] = old;
    }
    bool has_reader = false;
    for (Hub* h : r.readers) has_reader |= h == &hub;
    if (!has_reader) {
        r.readers.push_back(&hub);
        Hub* hp = &hub;
        int fd = r.pipe_rd;
        gev::spawn(SpawnOptions{0, "signal reader"}, [hp, fd] { reader_loop(hp, fd); });
    }
    std::uint64_t id = r.next_id++;
    r.handlers.emplace(id, Entry{sig, &hub, std::move(f)});
    return SignalHandler(id);
}

SignalHandler& SignalHandler::operator=(SignalHandler&& o) noexcept {
    if (this != &o) {
        cancel();
        id_ = o.id_;
        o.id_ = 0;
    }
    return *this;
}

void SignalHandler::cancel() noexcept {
    if (id_ == 0) return;
    detail::Registry& r = detail::registry();
    std::lock_guard lock(r.mu);
    auto it = r.handlers.find(id_);
    id_ = 0;
    if (it == r.handlers.end()) return;
    int sig = it->second.sig;
    r.handlers.erase(it);
    for (auto& [id, e] : r.handlers)
        if (e.sig == sig) return;
    ::sigaction(sig, &r.previous[sig], nullptr);
    r.previous.erase(sig);
}

}  // namespace gev
