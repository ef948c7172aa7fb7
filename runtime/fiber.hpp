// runtime/fiber.hpp — the one fiber type, under both the hub and the greenlet layer.
// A Fiber is a reference-counted control block (heap) plus a stack from the thread's
// pool, taken when it first runs and returned when it ends. Control changes hands only
// in runtime/fiber_switch.hpp (internal): it keeps the sanitizers and the C++ runtime's
// per-thread exception state truthful for each fiber. A fiber never leaves the thread
// that created it; only the reference count, the wake token and the inbox node are
// touched from other threads.
#pragma once

#include "runtime/hub_inbox.hpp"
#include "runtime/rawlink.hpp"
#include "runtime/spinlock.hpp"
#include "runtime/stack_pool.hpp"
#include "runtime/timer.hpp"
#include "runtime/wait_list.hpp"

#include <any>
#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace gev::detail {

class Hub;

enum class FiberState : std::uint8_t {
    created,    // spawned, never run, no stack yet
    ready,      // in its hub's ready queue
    running,
    parked,     // waiting in the hub (sleep, join, IO, a primitive)
    suspended,  // switched away from explicitly (greenlet switch)
    dead,
};

enum class FiberKind : std::uint8_t {
    root,    // a thread's native context: the hub's scheduler loop, or greenlet's main
    hub,     // spawned with gev::spawn; when it ends the hub picks what runs next
    raw,     // a RawGreenlet; when it ends its parent resumes
};

enum class WaitKind : std::uint8_t { none, sleep, join, object, fd, idle };

// A fiber's copy of the C++ runtime's per-thread exception state (libstdc++'s
// __cxa_eh_globals: the stack of caught exceptions and the uncaught count), kept while
// it does not run; copied whole, padding included, so a switch moves it in one go.
struct EhState {
    void* caught = nullptr;
    unsigned int uncaught = 0;
};

// Why a parked fiber waits; feeds LoopExit's message and fiber dumps.
struct WaitReason {
    WaitKind kind = WaitKind::none;
    const char* what = "";          // "sleep", "join", "Event", "recv", ...
    const void* object = nullptr;   // the primitive waited on
    std::int64_t number = -1;       // fd or fiber id
};

class Fiber;

// What greenlet's explicit switch keeps per fiber.
struct GreenletPart {
    std::any transfer;                // value passed by switch_to, or a raw greenlet's result
    Fiber* parent = nullptr;          // strong reference; raw greenlets only
};

// What only reports, dumps and the blocked-hub monitor read: never on a hot path.
struct FiberDebug {
    std::string name;
    WaitReason reason;                // why it is parked
    std::int64_t wait_deadline = -1;  // when the current park times out
    const void* spawn_site = nullptr; // the return address of the spawn call
    std::int64_t spawn_ns = 0;        // the hub's clock when it was spawned
};

class Fiber {
public:
    Fiber(const Fiber&) = delete;
    Fiber& operator=(const Fiber&) = delete;
    virtual ~Fiber();

    void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    std::uint32_t refs() const noexcept { return refs_.load(std::memory_order_relaxed); }

    // "Greenlet-7" unless named.
    std::string display_name() const;

    // Grouped by who touches what, hottest first: the first 128 bytes hold all that
    // a switch, a yield and a pass over the ready queue read or write.

    // --- scheduler core (owning thread only) ---
    FiberState state = FiberState::created;
    FiberKind kind;
    bool queued = false;              // in the hub's ready queue
    bool attached = false;            // in the hub's list of live fibers
    bool ended_by_exit = false;       // ended by GreenletExit: counts as success
    bool is_main = false;             // gev::run's main: failures go to run(), not the handler
    // `pending` came without a wake-up (a shield held it back, the fiber was not
    // parked, or it was queued behind another kill): the next park, even one that
    // cannot be interrupted, returns at once so its caller can act on it.
    bool wake_owed = false;
    // Live gev::Shield scopes: while non-zero, kills and Timeouts stay pending.
    std::uint32_t shields = 0;
    std::uint32_t handles = 0;        // RawGreenlet handles (raw greenlets only)
    void* ctx = nullptr;              // saved Boost.Context fcontext while not running
    Stack stack;
    Hub* hub = nullptr;
    Fiber* next_ready = nullptr;      // hub's ready queue
    // An exception to raise at the next resumption point (kill, Timeout, LoopExit,
    // or the failure of a raw child greenlet). pending_timeout identifies a Timeout.
    std::exception_ptr pending;
    EhState eh;                       // saved __cxa_eh_globals of this fiber (the switch)
    std::uint64_t epoch = 0;          // bumped at the end of every park

    // --- greenlet part (RawGreenlet's switch; hub fibers leave it empty) ---
    GreenletPart greenlet;

    // --- cross-thread: wake-ups from other hubs ---
    // Any thread: who claimed the current park, and whether the node sits in the hub's
    // inbox (runtime/hub_inbox.hpp). The node is the hub's to link while the bit is set.
    std::atomic<std::uint64_t> wake_token{0};
    InboxNode inbox_node;

    // --- the rest of the scheduler's state ---
    std::uint64_t id = 0;
    std::uint64_t pending_timeout = 0;
    // Kills sent while another kill was pending, oldest first: each becomes pending
    // when the one before it is raised (gevent queues every throw).
    std::vector<std::exception_ptr> queued_kills;
    Fiber* all_prev = nullptr;        // hub's list of live fibers
    Fiber* all_next = nullptr;
    std::size_t stack_request = 0;    // 0: default size

    // --- result and observers (observers may live on other hubs) ---
    std::exception_ptr error;         // set when it ended by an exception (GreenletExit too)
    std::atomic<bool> ended{false};   // stored (release) once error/result are final
    SpinLock observers;               // guards `links` and the store of `ended`
    RawLinkList links;                // joiners, callbacks and links, notified in order
    struct OwnedTimer : TimerNode { Fiber* owner = nullptr; };
    OwnedTimer start_timer;           // spawn_later

    // --- debug part: reports, dumps, the monitor ---
    FiberDebug debug;

    // --- sanitizer bookkeeping for the switch ---
    void* asan_fake_stack = nullptr;
    const void* asan_bottom = nullptr;
    std::size_t asan_size = 0;
    void* tsan_fiber = nullptr;

    // Runs the fiber's function; the result stays in the derived object.
    virtual void invoke() = 0;
    // Drops the function and what it captured, for a fiber that will never run it
    // (killed before it started): captures must not outlive the fiber's end.
    virtual void drop_function() noexcept {}

protected:
    // A hub fiber starts with two references: its handle's and its own while alive.
    Fiber(FiberKind k, std::uint32_t refs) : kind(k), refs_(refs) { inbox_node.fiber = this; }

private:
    std::atomic<std::uint32_t> refs_;
};

// The running fiber of this thread; null until the thread first uses fibers.
[[gnu::tls_model("initial-exec")]] extern constinit thread_local Fiber* t_current;
Fiber* init_thread() noexcept;

// The fiber running on this thread (the thread's root fiber when none was made).
inline Fiber* current_fiber() noexcept {
    Fiber* f = t_current;
    return f != nullptr ? f : init_thread();
}
// This thread's root fiber, created on first use.
Fiber* root_fiber();
// This thread's stack pool.
StackPool& stack_pool();
// A fresh process-unique fiber id.
std::uint64_t next_fiber_id() noexcept;

// Gives `f` a stack and an entry frame; throws std::system_error when out of memory.
void prepare_stack(Fiber* f);
// Leaves `from` (whose state the caller has already set) and resumes `to`.
// Returns when something switches back to `from`.
void switch_to(Fiber* from, Fiber* to) noexcept;
// Leaves the dying current fiber for good; its stack is recycled by `to`.
[[noreturn]] void switch_final(Fiber* from, Fiber* to) noexcept;

// What a fiber does once its function has returned or thrown: implemented by the
// hub layer (hub fibers) and the greenlet layer (raw fibers). Never returns.
[[noreturn]] void finish_fiber(Fiber* self, std::exception_ptr error) noexcept;
// Ends a hub fiber that never ran (killed first, or no stack could be had).
void end_unstarted(Fiber* f, std::exception_ptr why) noexcept;

// Empties a fiber's std::optional function when the invoke() frame ends, however it ends.
template <class F>
struct DropOnExit {
    std::optional<F>& fn;
    ~DropOnExit() { fn.reset(); }
};

}  // namespace gev::detail
