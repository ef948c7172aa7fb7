// runtime/signal.cpp — the self-pipes behind signal_handler. Each hub with handlers
// owns one slot: a pipe and the set of signals it handles. The C handler writes the
// signal's number into the pipe of every slot that wants it (lock-free: atomics only),
// and each hub's reader fiber runs that hub's handlers, so a signal reaches every hub
// that registered for it whichever thread the kernel delivered it to. Pipes are never
// closed (a handler on another thread may be about to write): a hub that ends leaves
// its slot, pipe included, to the next hub that needs one. A gev::fork child gets new
// pipes under the same numbers and none of the parent's handlers.
#include "runtime/signal.hpp"

#include "runtime/errors.hpp"
#include "runtime/fork_hooks.hpp"
#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace gev {
namespace detail {
namespace {

constexpr int kSlots = 256;   // hubs with signal handlers at the same time

struct Slot {
    std::atomic<int> wr{-1};
    std::atomic<std::uint64_t> mask{0};   // bit sig-1: this slot's hub handles sig
    int rd = -1;                          // the rest: under Registry::mu
    Hub* hub = nullptr;                   // null: free for the next hub
};

constinit Slot g_slots[kSlots];
constinit std::atomic<int> g_slots_made{0};   // g_slots[0..made) have a pipe

struct Entry {
    int sig;
    Hub* hub;
    std::function<void()> fn;
};

struct Registry {
    std::mutex mu;
    std::map<std::uint64_t, Entry> handlers;
    std::map<int, struct sigaction> previous;   // per signal with at least one handler
    std::uint64_t next_id = 1;
};

Registry& registry() {
    static Registry* r = new Registry;   // outlives every thread that may still signal
    return *r;
}

std::uint64_t bit(int sig) noexcept { return std::uint64_t{1} << (sig - 1); }

extern "C" void on_signal(int sig) {
    int saved = errno;
    unsigned char b = static_cast<unsigned char>(sig);
    int made = g_slots_made.load(std::memory_order_acquire);
    for (int i = 0; i < made; ++i)
        if (g_slots[i].mask.load(std::memory_order_acquire) & bit(sig)) {
            [[maybe_unused]] ssize_t r = ::write(g_slots[i].wr.load(std::memory_order_relaxed), &b, 1);
        }
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

// The signals some handler of `hub` still wants (caller holds the mutex).
std::uint64_t wanted_by(Hub* hub) {
    std::uint64_t m = 0;
    for (auto& [id, e] : registry().handlers)
        if (e.hub == hub) m |= bit(e.sig);
    return m;
}

// Gives sig its previous disposition back when no hub handles it any more (caller
// holds the mutex).
void restore_if_unused(int sig) {
    Registry& r = registry();
    for (auto& [id, e] : r.handlers)
        if (e.sig == sig) return;
    auto it = r.previous.find(sig);
    if (it == r.previous.end()) return;
    ::sigaction(sig, &it->second, nullptr);
    r.previous.erase(it);
}

// The hub's reader fiber is gone (killed when its hub ended): its handlers can never
// run again and its slot goes to the next hub that needs one.
void leave_slot(Slot& slot) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    slot.mask.store(0, std::memory_order_release);
    std::vector<int> sigs;
    for (auto it = r.handlers.begin(); it != r.handlers.end();) {
        if (it->second.hub == slot.hub) {
            sigs.push_back(it->second.sig);
            it = r.handlers.erase(it);
        } else {
            ++it;
        }
    }
    for (int sig : sigs) restore_if_unused(sig);
    slot.hub = nullptr;
}

// The fiber that reads signal numbers from the slot's pipe on its hub.
void reader_loop(Hub* hub, Slot* slot) {
    struct Leave {
        Hub* hub;
        Slot* slot;
        ~Leave() {
            hub->poller().forget(slot->rd);   // the next hub to take the slot will hold rd
            leave_slot(*slot);
        }
    } leave{hub, slot};
    for (;;) {
        unsigned char buf[64];
        IoOp op;
        op.kind = IoKind::read;
        op.fd = slot->rd;
        op.buf = buf;
        op.len = sizeof buf;
        IoResult got = hub->poller().io(op, -1);
        int n = got.ready() ? got.res : 0;
        if (n <= 0) continue;
        for (int i = 0; i < n; ++i) dispatch(hub, buf[i]);
    }
}

// The slot of `hub`, taking a free one (or making one) and starting its reader the
// first time (caller holds the mutex).
Slot& slot_for(Hub& hub) {
    int made = g_slots_made.load(std::memory_order_relaxed);
    Slot* free_slot = nullptr;
    for (int i = 0; i < made; ++i) {
        if (g_slots[i].hub == &hub) return g_slots[i];
        if (g_slots[i].hub == nullptr && free_slot == nullptr) free_slot = &g_slots[i];
    }
    if (free_slot != nullptr) {
        unsigned char buf[256];   // what arrived for its previous hub is not ours
        while (::read(free_slot->rd, buf, sizeof buf) > 0) {
        }
    } else {
        if (made == kSlots)
            throw std::system_error(EMFILE, std::generic_category(),
                                    "gev::signal_handler: more than 256 hubs handle signals");
        int p[2];
        if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
            throw std::system_error(errno, std::generic_category(), "gev::signal_handler: pipe");
        free_slot = &g_slots[made];
        free_slot->rd = p[0];
        free_slot->wr.store(p[1], std::memory_order_relaxed);
        g_slots_made.store(made + 1, std::memory_order_release);
    }
    gev::spawn(SpawnOptions{0, "signal reader"}, [hp = &hub, free_slot] { reader_loop(hp, free_slot); });
    free_slot->hub = &hub;
    return *free_slot;
}

// A fresh pipe under the slot's fd numbers: the inherited one is shared with the
// parent, whose reader would take the child's signals. dup3 replaces each number in
// one step, so a handler writing meanwhile writes to one pipe or the other, never to
// a closed or reused number.
void renew_pipe(Slot& slot) noexcept {
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
        die("gev::fork: the child could not make a signal pipe: " + std::string(std::strerror(errno)));
    int wr = slot.wr.load(std::memory_order_relaxed);
    if (::dup3(p[0], slot.rd, O_CLOEXEC) < 0 || ::dup3(p[1], wr, O_CLOEXEC) < 0)
        die("gev::fork: the child could not replace a signal pipe: " + std::string(std::strerror(errno)));
    ::close(p[0]);
    ::close(p[1]);
}

}  // namespace

void signals_fork_lock() noexcept { registry().mu.lock(); }
void signals_fork_unlock() noexcept { registry().mu.unlock(); }

// The parent's handlers are functions of the parent's fibers, which the child
// abandoned: the child starts with none. Each signal they caught gets back the
// disposition it had before gev, every slot is freed, and the next signal_handler
// call starts a reader again.
void signals_after_fork_child() noexcept {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    // Kept, not destroyed: what their functions captured is the parent's.
    static auto* dropped = new std::vector<std::map<std::uint64_t, Entry>>;
    try {
        dropped->push_back(std::move(r.handlers));
    } catch (...) {
        die("gev::fork: out of memory dropping the parent's signal handlers in the child");
    }
    r.handlers.clear();
    for (auto& [sig, old] : r.previous) ::sigaction(sig, &old, nullptr);
    r.previous.clear();
    int made = g_slots_made.load(std::memory_order_relaxed);
    for (int i = 0; i < made; ++i) {
        g_slots[i].mask.store(0, std::memory_order_release);
        g_slots[i].hub = nullptr;
        renew_pipe(g_slots[i]);
    }
}

}  // namespace detail

SignalHandler signal_handler(int sig, std::function<void()> f) {
    using namespace detail;
    Hub& hub = Hub::require("gev::signal_handler");
    if (sig < 1 || sig > 64)
        throw std::system_error(EINVAL, std::generic_category(), "gev::signal_handler: signal " + std::to_string(sig));
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    Slot& slot = slot_for(hub);
    if (r.previous.find(sig) == r.previous.end()) {
        struct sigaction sa {}, old{};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (::sigaction(sig, &sa, &old) != 0)
            throw std::system_error(errno, std::generic_category(), "gev::signal_handler: sigaction " + std::to_string(sig));
        r.previous[sig] = old;
    }
    std::uint64_t id = r.next_id++;
    r.handlers.emplace(id, Entry{sig, &hub, std::move(f)});
    slot.mask.fetch_or(bit(sig), std::memory_order_release);
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
    using namespace detail;
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.handlers.find(id_);
    id_ = 0;
    if (it == r.handlers.end()) return;
    int sig = it->second.sig;
    Hub* hub = it->second.hub;
    r.handlers.erase(it);
    int made = g_slots_made.load(std::memory_order_relaxed);
    for (int i = 0; i < made; ++i)
        if (g_slots[i].hub == hub) g_slots[i].mask.store(wanted_by(hub), std::memory_order_release);
    restore_if_unused(sig);
}

}  // namespace gev
