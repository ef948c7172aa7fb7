// runtime/fiber.cpp — context switching on Boost.Context's fcontext, with the
// AddressSanitizer/ThreadSanitizer fiber annotations and a per-fiber copy of the
// C++ runtime's exception globals (so `throw;` and std::uncaught_exceptions()
// stay right in a fiber that switched while handling an exception).
#include "runtime/fiber.hpp"

#include "runtime/errors.hpp"
#include "runtime/overflow.hpp"

#include <boost/context/detail/fcontext.hpp>

#include <cstdio>
#include <cxxabi.h>

#include "runtime/sanitizers.hpp"
#if GEV_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if GEV_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace bctx = boost::context::detail;

namespace gev::detail {

[[gnu::tls_model("initial-exec")]] constinit thread_local Fiber* t_current = nullptr;

namespace {

// libstdc++'s per-thread exception state (Itanium C++ ABI, __cxa_eh_globals).
struct EhGlobals {
    void* caught;
    unsigned int uncaught;
};

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

[[gnu::tls_model("initial-exec")]] thread_local EhGlobals* t_eh = nullptr;
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
        t_eh = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
        t_state = new ThreadState;
        if (t_current == nullptr) t_current = t_state->root;
    }
    return *t_state;
}


// Runs in the fiber that has just been resumed: records where the previous fiber
// stopped, or recycles it if it has ended, then restores this fiber's exception state.
void after_switch(bctx::transfer_t t) noexcept {
    Fiber* self = t_current;
    auto* prev = static_cast<Fiber*>(t.data);
#if GEV_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &prev->asan_bottom, &prev->asan_size);
#endif
    if (prev->state == FiberState::dead) {
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
    } else {
        prev->ctx = t.fctx;
    }
    t_eh->caught = self->eh_caught;
    t_eh->uncaught = self->eh_uncaught;
}

void fiber_entry(bctx::transfer_t t) noexcept {
    after_switch(t);
    Fiber* self = t_current;
    std::exception_ptr error;
    try {
        self->invoke();
    } catch (...) {
        error = std::current_exception();
    }
    finish_fiber(self, std::move(error));
}

inline void leave(Fiber* from, Fiber* to) noexcept {
    // Where this frame sits tells whether the fiber ran past its stack (an unguarded
    // stack would otherwise overwrite its neighbour silently).
    // (Compared as integers: a stack pointer already past the base is caught too.)
    char here;
    auto sp = reinterpret_cast<std::uintptr_t>(&here);
    if (from->stack.base != nullptr && sp < reinterpret_cast<std::uintptr_t>(from->stack.base) + kStackRedZone)
        die_stack_overflow(from, nullptr, sp);
    from->eh_caught = t_eh->caught;
    from->eh_uncaught = t_eh->uncaught;
    t_current = to;
#if GEV_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
}

}  // namespace

Fiber::~Fiber() {
    if (parent != nullptr) parent->unref();
}

std::string Fiber::display_name() const {
    if (!name.empty()) return name;
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

void switch_to(Fiber* from, Fiber* to) noexcept {
    leave(from, to);
#if GEV_ASAN
    __sanitizer_start_switch_fiber(&from->asan_fake_stack, to->asan_bottom, to->asan_size);
#endif
    bctx::transfer_t t = bctx::jump_fcontext(to->ctx, from);
    after_switch(t);
}

void switch_final(Fiber* from, Fiber* to) noexcept {
    leave(from, to);
#if GEV_ASAN
    __sanitizer_start_switch_fiber(nullptr, to->asan_bottom, to->asan_size);
#endif
    bctx::jump_fcontext(to->ctx, from);
    __builtin_unreachable();
}

}  // namespace gev::detail
