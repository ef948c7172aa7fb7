// runtime/overflow.cpp — the fault handler behind overflow.hpp. It must stay
// async-signal-safe: it reads only the faulting thread's current fiber (its own
// thread-local) and writes with write(2) (safe_write.hpp).
#include "runtime/overflow.hpp"

#include "runtime/fiber.hpp"
#include "runtime/safe_write.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace gev::detail {
namespace {

constexpr std::uintptr_t kGuard = 4096;               // stack_pool.cpp's guard page
constexpr std::uintptr_t kBelowReach = 1u << 20;     // how far below a stack a fault still counts
constexpr std::size_t kAltStack = 64 * 1024;

struct sigaction g_prev_segv;
struct sigaction g_prev_bus;
std::once_flag g_once;

[[gnu::tls_model("initial-exec")]] thread_local void* t_altstack = nullptr;

std::uintptr_t stack_pointer(void* uc) noexcept {
#if defined(__x86_64__)
    return static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
    return static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uc)->uc_mcontext.sp);
#else
    (void)uc;
    return 0;
#endif
}

// The fault is the current fiber's overflow when it hit the guard page below its
// stack, or when the stack pointer itself has left the stack downwards.
bool is_overflow(const Fiber* f, std::uintptr_t addr, std::uintptr_t sp) noexcept {
    if (f == nullptr || f->stack.base == nullptr) return false;
    auto base = reinterpret_cast<std::uintptr_t>(f->stack.base);
    if (f->stack.guarded && addr < base && addr >= base - kGuard) return true;
    return sp != 0 && sp < base && sp >= base - kBelowReach && addr < base && addr >= base - kBelowReach;
}

extern "C" void on_fault(int sig, siginfo_t* si, void* uc) {
    Fiber* f = t_current;
    if (is_overflow(f, reinterpret_cast<std::uintptr_t>(si->si_addr), stack_pointer(uc)))
        die_stack_overflow(f, si->si_addr, stack_pointer(uc));
    // Not ours: the previous disposition takes over. A fault re-executes the faulting
    // instruction on return and meets it; a signal sent by kill() is sent again.
    ::sigaction(sig, sig == SIGSEGV ? &g_prev_segv : &g_prev_bus, nullptr);
    if (si->si_code <= 0) ::raise(sig);
}

void install_process_handlers() noexcept {
    warm_backtrace();
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    ::sigaction(SIGSEGV, &sa, &g_prev_segv);
    ::sigaction(SIGBUS, &sa, &g_prev_bus);
}

}  // namespace

void install_overflow_handler() noexcept {
    std::call_once(g_once, install_process_handlers);
    stack_t old{};
    if (::sigaltstack(nullptr, &old) == 0 && !(old.ss_flags & SS_DISABLE) && old.ss_size >= 16 * 1024) return;
    void* mem = ::mmap(nullptr, kAltStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return;   // overflows then die by the default SIGSEGV, unnamed
    stack_t ss{};
    ss.ss_sp = mem;
    ss.ss_size = kAltStack;
    if (::sigaltstack(&ss, nullptr) != 0) {
        ::munmap(mem, kAltStack);
        return;
    }
    t_altstack = mem;
}

void remove_overflow_handler() noexcept {
    if (t_altstack == nullptr) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    if (::sigaltstack(&ss, nullptr) == 0) ::munmap(t_altstack, kAltStack);
    t_altstack = nullptr;
}

void die_stack_overflow(const Fiber* f, const void* fault, std::uintptr_t sp) noexcept {
    {
        SafeWriter w(2);
        w.str("gev: stack overflow in ").fiber(f).str(" (stack ").num(f->stack.size).str(" bytes, ");
        w.hex(reinterpret_cast<std::uintptr_t>(f->stack.base)).str("..").hex(reinterpret_cast<std::uintptr_t>(f->stack.top()));
        if (fault != nullptr) {
            w.str(f->stack.guarded ? ", guard page hit at " : ", unguarded, fault at ");
            w.hex(reinterpret_cast<std::uintptr_t>(fault));
        } else {
            w.str(", unguarded, found at a switch-out with the stack pointer at ").hex(sp);
        }
        w.str("), spawned at ");
        if (f->debug.spawn_site != nullptr) w.code_address(f->debug.spawn_site);
        else w.str("-\n");
        w.str("gev: where it overflowed:\n");
    }
    write_backtrace(2, 2, 12);
    std::abort();
}

}  // namespace gev::detail
