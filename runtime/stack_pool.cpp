// runtime/stack_pool.cpp — chunked stack mapping, guard budget, reuse, and giving the
// pages of idle stacks beyond the cache limit back to the kernel.
#include "runtime/stack_pool.hpp"

#include "runtime/sanitizers.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace gev::detail {
namespace {

constexpr std::size_t kPage = 4096;
#if GEV_ASAN
constexpr std::size_t kDefaultStack = 512 * 1024;
#else
constexpr std::size_t kDefaultStack = 128 * 1024;
#endif
constexpr std::size_t kChunkBytes = 32u << 20;   // virtual bytes per chunk
constexpr std::size_t kMaxSlots = 256;

constexpr std::size_t kDefaultCacheLimit = 1024;

std::atomic<std::size_t> g_default_size{kDefaultStack};
std::atomic<std::size_t> g_cache_limit{kDefaultCacheLimit};
std::atomic<bool> g_populate_ok{true};

// Guards allowed process-wide: a quarter of vm.max_map_count (each guarded stack
// splits into two mappings), or GEV_STACK_GUARDS when set.
std::size_t initial_guard_budget() {
    if (const char* env = std::getenv("GEV_STACK_GUARDS")) return std::strtoull(env, nullptr, 10);
    std::size_t max_maps = 65530;
    if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
        unsigned long long v = 0;
        if (std::fscanf(f, "%llu", &v) == 1 && v > 0) max_maps = v;
        std::fclose(f);
    }
    return max_maps / 4;
}

std::atomic<std::size_t>& guard_budget() {
    static std::atomic<std::size_t> budget{initial_guard_budget()};
    return budget;
}

bool take_guards(std::size_t n) {
    auto& b = guard_budget();
    std::size_t have = b.load(std::memory_order_relaxed);
    while (have >= n)
        if (b.compare_exchange_weak(have, have - n, std::memory_order_relaxed)) return true;
    return false;
}

// The top page is where a fiber's first frames live: fault it in with one call,
// about five times cheaper than a first-touch fault on a VM.
void prefault_top(char* top) noexcept {
    if (!g_populate_ok.load(std::memory_order_relaxed)) return;
    if (::madvise(top - kPage, kPage, MADV_POPULATE_WRITE) != 0)
        g_populate_ok.store(false, std::memory_order_relaxed);
}

}  // namespace

std::size_t normalize_stack_size(std::size_t size) noexcept {
    if (size == 0) size = g_default_size.load(std::memory_order_relaxed);
    if (size < 4 * kPage) size = 4 * kPage;
    return (size + kPage - 1) & ~(kPage - 1);
}

StackPool::~StackPool() {
    // Stacks still in use belong to fibers that never ended (abandoned at exit):
    // leave the memory mapped rather than pull it from under them.
    if (in_use_ != 0) return;
    for (const Chunk& c : chunks_) ::munmap(c.base, c.bytes);
}

StackPool::SizeClass& StackPool::other_size_class(std::size_t size) {
    for (SizeClass& c : classes_)
        if (c.size == size) return c;
    classes_.push_back(SizeClass{size, {}, 0, nullptr, 0, false});
    return classes_.back();
}

void StackPool::map_chunk(SizeClass& c) {
    std::size_t slots = kChunkBytes / (c.size + kPage);
    if (slots == 0) slots = 1;
    if (slots > kMaxSlots) slots = kMaxSlots;
    bool guarded = take_guards(slots);
    std::size_t slot = c.size + (guarded ? kPage : 0);
    std::size_t bytes = slots * slot;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        if (guarded) guard_budget().fetch_add(slots, std::memory_order_relaxed);
        throw std::system_error(errno, std::generic_category(), "gev: mapping fiber stacks");
    }
    char* base = static_cast<char*>(p);
    ::madvise(base, bytes, MADV_NOHUGEPAGE);  // a huge page would turn 4 KiB of stack into 2 MiB of RSS
    if (guarded)
        for (std::size_t i = 0; i < slots; ++i) ::mprotect(base + i * slot, kPage, PROT_NONE);
    chunks_.push_back(Chunk{base, bytes});
    mapped_bytes_ += bytes;
    c.carve = base;
    c.carve_left = slots;
    c.carve_guarded = guarded;
}

Stack StackPool::acquire(std::size_t size) {
    size = normalize_stack_size(size);
    SizeClass& c = size_class(size);
    Stack s;
    s.size = size;
    if (!c.free.empty()) {
        s = c.free.back();
        c.free.pop_back();
        if (c.free.size() < c.cold) {   // its pages went back to the kernel
            c.cold = c.free.size();
            prefault_top(s.top());
        }
    } else {
        if (c.carve_left == 0) map_chunk(c);
        std::size_t guard = c.carve_guarded ? kPage : 0;
        s.base = c.carve + guard;
        s.guarded = c.carve_guarded;
        c.carve += guard + size;
        --c.carve_left;
        prefault_top(s.top());
    }
    ++in_use_;
    return s;
}

void StackPool::release(const Stack& s) noexcept {
    if (s.base == nullptr) return;
    --in_use_;
    SizeClass& c = size_class(s.size);
    try {
        c.free.push_back(s);
    } catch (...) {
        // Out of memory for the free list: the stack stays mapped, unused.
        return;
    }
    std::size_t limit = g_cache_limit.load(std::memory_order_relaxed);
    if (c.free.size() - c.cold > limit) trim(c, limit / 2);
}

// Releases the pages of the oldest warm idle stacks, leaving `keep_warm` of the newest.
// Sorted by address, neighbours in a chunk (and the guard page between them) go in one
// madvise; the order among cold stacks does not matter, reuse faults their pages anew.
void StackPool::trim(SizeClass& c, std::size_t keep_warm) noexcept {
    std::size_t end = c.free.size() - keep_warm;
    auto first = c.free.begin() + static_cast<std::ptrdiff_t>(c.cold);
    auto last = c.free.begin() + static_cast<std::ptrdiff_t>(end);
    std::sort(first, last, [](const Stack& a, const Stack& b) { return a.base < b.base; });
    while (first != last) {
        char* from = first->base;
        char* to = first->top();
        std::size_t bytes = first->size;
        for (++first; first != last && first->base - (first->guarded ? kPage : 0) == to; ++first) {
            to = first->top();
            bytes += first->size;
        }
        if (::madvise(from, static_cast<std::size_t>(to - from), MADV_DONTNEED) == 0) {
            released_bytes_ += bytes;
            ++release_calls_;
        }
    }
    c.cold = end;
}

std::size_t StackPool::idle() const noexcept {
    std::size_t n = 0;
    for (const SizeClass& c : classes_) n += c.free.size();
    return n;
}

std::size_t StackPool::idle_warm() const noexcept {
    std::size_t n = 0;
    for (const SizeClass& c : classes_) n += c.free.size() - c.cold;
    return n;
}

}  // namespace gev::detail

namespace gev {
void set_default_stack_size(std::size_t bytes) {
    detail::g_default_size.store(detail::normalize_stack_size(bytes), std::memory_order_relaxed);
}
std::size_t default_stack_size() noexcept {
    return detail::g_default_size.load(std::memory_order_relaxed);
}
std::size_t stack_guard_budget() noexcept {
    return detail::guard_budget().load(std::memory_order_relaxed);
}
void set_stack_cache_limit(std::size_t stacks) noexcept {
    detail::g_cache_limit.store(stacks, std::memory_order_relaxed);
}
std::size_t stack_cache_limit() noexcept {
    return detail::g_cache_limit.load(std::memory_order_relaxed);
}
}  // namespace gev
