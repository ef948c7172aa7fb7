// runtime/fiber.cpp — fibers' thread state, stacks and entry frame, and the out-of-line
// ends of a switch (runtime/fiber_switch.hpp has the switch itself, with the
// AddressSanitizer/ThreadSanitizer fiber annotations and a per-fiber copy of the C++
// runtime's exception globals, so `throw;` and std::uncaught_exceptions() stay right
// in a fiber that switched while handling an exception).
#include "runtime/fiber_switch.hpp"

#include "runtime/errors.hpp"

#include <cstdio>
#include <cxxabi.h>

#if GEV_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace bctx = boost::context::detail;

namespace gev::detail {

[[gnu::tls_model("initial-exec")]] constinit thread_local Fiber* t_current = nullptr;
[[gnu::tls_model("initial-exec")]] constinit thread_local EhState* t_eh = nullptr;

namespace {

class RootFiber final : public Fiber {
public:
    RootFiber() : Fiber(FiberKind::root, 1) { state = FiberState::running; }
    void invoke() override {}
};

struct ThreadState {
    RootFiber* root;
    StackPool pool;
    ThreadState() : root(new RootFiber) {
        root->id = next_fiber_id();
#if GEV_TSAN
        root->tsan_fiber = __tsan_get_current_fiber();
#endif
        install_overflow_handler();
    }
    ~ThreadState() {
        remove_overflow_handler();
        root->unref();
    }
};

[[gnu::tls_model("initial-exec")]] thread_local ThreadState* t_state = nullptr;
[[gnu::tls_model("initial-exec")]] thread_local std::uint64_t t_id_next = 0;
[[gnu::tls_model("initial-exec")]] thread_local std::uint64_t t_id_end = 0;

std::atomic<std::uint64_t> g_id_blocks{1};
constexpr std::uint64_t kIdBlock = 1024;

// Deletes the thread's state when the thread ends.
struct ThreadStateOwner {
    ~ThreadStateOwner() {
        delete t_state;
        t_state = nullptr;
        t_current = nullptr;
    }
};

ThreadState& thread_state() {
    if (t_state == nullptr) {
        static thread_local ThreadStateOwner owner;
        (void)owner;
        t_eh = reinterpret_cast<EhState*>(abi::__cxa_get_globals());
        t_state = new ThreadState;
        if (t_current == nullptr) t_current = t_state->root;
    }
    return *t_state;
}


void fiber_entry(bctx::transfer_t t) noexcept {
    Fiber* self = t_current;
    arrive(self, t, t_eh);
    std::exception_ptr error;
    try {
        self->invoke();
    } catch (...) {
        error = std::current_exception();
    }
    finish_fiber(self, std::move(error));
}

}  // namespace

Fiber::~Fiber() {
    if (greenlet.parent != nullptr) greenlet.parent->unref();
}

std::string Fiber::display_name() const {
    if (!debug.name.empty()) return debug.name;
    if (kind == FiberKind::root) return "main";
    return "Greenlet-" + std::to_string(id);
}

Fiber* init_thread() noexcept {
    thread_state();
    return t_current;
}

Fiber* root_fiber() { return thread_state().root; }

StackPool& stack_pool() { return thread_state().pool; }

std::uint64_t next_fiber_id() noexcept {
    if (t_id_next == t_id_end) {
        t_id_next = g_id_blocks.fetch_add(kIdBlock, std::memory_order_relaxed);
        t_id_end = t_id_next + kIdBlock;
    }
    return t_id_next++;
}

void prepare_stack(Fiber* f) {
    f->stack = thread_state().pool.acquire(f->stack_request);
    f->ctx = bctx::make_fcontext(f->stack.top(), f->stack.size - sizeof(std::uint64_t), fiber_entry);
    f->asan_bottom = f->stack.base;
    f->asan_size = f->stack.size;
#if GEV_TSAN
    f->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void recycle_dead(Fiber* prev) noexcept {
#if GEV_ASAN
    // The frames it died in never returned: clear their poisoned redzones, or the
    // next fiber on this stack trips over them.
    ASAN_UNPOISON_MEMORY_REGION(prev->stack.base, prev->stack.size);
#endif
    t_state->pool.release(prev->stack);
    prev->stack = Stack{};
    prev->ctx = nullptr;
#if GEV_TSAN
    __tsan_destroy_fiber(prev->tsan_fiber);
    prev->tsan_fiber = nullptr;
#endif
    prev->unref();   // the reference a fiber holds on itself while it is alive
}

void switch_to(Fiber* from, Fiber* to) noexcept { switch_fast(from, to); }

void switch_final(Fiber* from, Fiber* to) noexcept {
    leave_fiber(from, to, t_eh);
#if GEV_ASAN
    __sanitizer_start_switch_fiber(nullptr, to->asan_bottom, to->asan_size);
#endif
    bctx::jump_fcontext(to->ctx, from);
    __builtin_unreachable();
}

}  // namespace gev::detail
