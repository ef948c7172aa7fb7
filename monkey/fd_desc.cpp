// monkey/fd_desc.cpp — the description store: chunks made on demand and never freed
// (a reader racing a close reads a recycled description, never freed memory), a
// Treiber free list whose head carries a tag against ABA, and a count of those in use.
#include "monkey/fd_desc.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace gev::monkey::detail {

constinit std::atomic<FdDesc*> g_desc_chunks[kChunks]{};

namespace {

constexpr std::uint32_t kMaxDescs = static_cast<std::uint32_t>(kChunks) * kChunkSize;

// The free list's head: tag << 32 | id (0: empty); the tag changes at every pop.
constinit std::atomic<std::uint64_t> g_free{0};
constinit std::atomic<std::uint32_t> g_top{0};      // ids 1..g_top have been handed out once
constinit std::atomic<std::int64_t> g_in_use{0};

std::uint32_t pop_free() noexcept {
    std::uint64_t head = g_free.load(std::memory_order_acquire);
    while (static_cast<std::uint32_t>(head) != 0) {
        std::uint32_t id = static_cast<std::uint32_t>(head);
        std::uint64_t next = ((head >> 32) + 1) << 32 | desc_at(id)->next_free.load(std::memory_order_relaxed);
        if (g_free.compare_exchange_weak(head, next, std::memory_order_acq_rel, std::memory_order_acquire)) return id;
    }
    return 0;
}

void push_free(std::uint32_t id) noexcept {
    std::uint64_t head = g_free.load(std::memory_order_relaxed);
    do {
        desc_at(id)->next_free.store(static_cast<std::uint32_t>(head), std::memory_order_relaxed);
    } while (!g_free.compare_exchange_weak(head, (head >> 32) << 32 | id, std::memory_order_release,
                                           std::memory_order_relaxed));
}

std::uint32_t fresh_id() noexcept {
    std::uint32_t top = g_top.load(std::memory_order_relaxed);
    do {
        if (top >= kMaxDescs) return 0;
    } while (!g_top.compare_exchange_weak(top, top + 1, std::memory_order_relaxed));
    std::uint32_t id = top + 1;
    if (chunk_for(g_desc_chunks, (id - 1) >> kChunkBits) == nullptr) return 0;   // the slot is lost: rare
    return id;
}

}  // namespace

template <class T>
T* chunk_for(std::atomic<T*>* chunks, std::uint32_t index) noexcept {
    std::atomic<T*>& slot = chunks[index];
    T* chunk = slot.load(std::memory_order_acquire);
    if (chunk != nullptr) return chunk;
    int saved = errno;
    T* fresh = new (std::nothrow) T[kChunkSize];
    errno = saved;
    if (fresh == nullptr) return nullptr;
    if (slot.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) return fresh;
    delete[] fresh;   // another thread made it first
    return chunk;
}
template FdEntry* chunk_for(std::atomic<FdEntry*>*, std::uint32_t) noexcept;
template FdDesc* chunk_for(std::atomic<FdDesc*>*, std::uint32_t) noexcept;

std::uint32_t desc_alloc() noexcept {
    std::uint32_t id = pop_free();
    if (id == 0) id = fresh_id();
    if (id == 0) return 0;
    FdDesc* d = desc_at(id);
    d->bits.store(0, std::memory_order_relaxed);
    d->rcv_ns.store(0, std::memory_order_relaxed);
    d->snd_ns.store(0, std::memory_order_relaxed);
    d->ino.store(0, std::memory_order_relaxed);
    d->dev.store(0, std::memory_order_relaxed);
    d->refs.store(1, std::memory_order_release);
    g_in_use.fetch_add(1, std::memory_order_relaxed);
    return id;
}

bool desc_acquire(std::uint32_t id) noexcept {
    std::atomic<std::uint32_t>& refs = desc_at(id)->refs;
    std::uint32_t n = refs.load(std::memory_order_relaxed);
    do {
        if (n == 0) return false;
    } while (!refs.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
    return true;
}

void desc_release(std::uint32_t id) noexcept {
    std::uint32_t before = desc_at(id)->refs.fetch_sub(1, std::memory_order_acq_rel);
    if (before == 0) {
        std::fprintf(stderr, "gev: fd description %u released more often than it was shared\n", id);
        std::abort();
    }
    if (before != 1) return;
    g_in_use.fetch_sub(1, std::memory_order_relaxed);
    push_free(id);
}

std::size_t fd_descs_in_use() noexcept {
    std::int64_t n = g_in_use.load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

}  // namespace gev::monkey::detail
