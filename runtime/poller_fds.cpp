// runtime/poller_fds.cpp — the process-wide fd table (see poller_fds.hpp): a two-level
// array of atomic words, gen << 32 | holder id, made on first claim and never freed
// (threads may read it at any time); and the registry of live pollers, under a mutex,
// through which a forget on one thread reaches the hub that held the fd.
#include "runtime/poller_fds.hpp"

#include "runtime/errors.hpp"
#include "runtime/fork_hooks.hpp"
#include "runtime/hub.hpp"

#include <algorithm>
#include <string>

namespace gev::detail {
namespace {

constexpr unsigned kChunkBits = 16;                    // 65,536 numbers per chunk
constexpr unsigned kChunks = 1u << (31 - kChunkBits);  // every non-negative int
using Word = std::atomic<std::uint64_t>;

constinit std::atomic<Word*> g_chunks[kChunks] = {};

std::uint32_t gen_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 32); }
std::uint32_t holder_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }
std::uint64_t word(std::uint32_t gen, std::uint32_t holder) noexcept {
    return std::uint64_t{gen} << 32 | holder;
}

Word* find_word(int fd) noexcept {
    if (fd < 0) return nullptr;
    Word* chunk = g_chunks[static_cast<unsigned>(fd) >> kChunkBits].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[static_cast<unsigned>(fd) & ((1u << kChunkBits) - 1)];
}

Word& make_word(int fd) {
    if (Word* w = find_word(fd)) return *w;
    auto& slot = g_chunks[static_cast<unsigned>(fd) >> kChunkBits];
    Word* fresh = new Word[std::size_t{1} << kChunkBits]();
    Word* expected = nullptr;
    if (!slot.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) delete[] fresh;
    return *find_word(fd);
}

struct Registry {
    std::mutex mu;
    std::vector<FdOwner*> live;
    std::vector<std::uint32_t> ids;   // parallel to live
    std::uint32_t next_id = 1;
};

Registry& registry() {
    static Registry* r = new Registry;   // threads without a hub may forget at exit
    return *r;
}

}  // namespace

// gev::fork: no other thread may hold the registry at the instant of the fork.
void pollers_fork_lock() noexcept { registry().mu.lock(); }
void pollers_fork_unlock() noexcept { registry().mu.unlock(); }
std::size_t live_pollers() noexcept {
    std::lock_guard lock(registry().mu);
    return registry().live.size();
}

FdOwner::FdOwner(Hub& hub, Poller& poller) : hub_(hub), poller_(poller) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    id_ = r.next_id++;
    if (r.next_id == 0) r.next_id = 1;
    r.live.push_back(this);
    r.ids.push_back(id_);
}

void FdOwner::retire() noexcept {
    if (retired_) return;
    retired_ = true;
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = std::find(r.live.begin(), r.live.end(), this);
    if (it == r.live.end()) return;
    r.ids.erase(r.ids.begin() + (it - r.live.begin()));
    r.live.erase(it);
}

std::uint32_t FdOwner::generation(int fd) noexcept {
    Word* w = find_word(fd);
    return w == nullptr ? 0 : gen_of(w->load(std::memory_order_acquire));
}

std::uint32_t FdOwner::claim(int fd) {
    Word& w = make_word(fd);
    std::uint64_t cur = w.load(std::memory_order_acquire);
    for (;;) {
        std::uint32_t holder = holder_of(cur);
        if (holder == id_) return gen_of(cur);
        if (holder != 0) die_wrong_hub(fd, holder);
        if (w.compare_exchange_weak(cur, word(gen_of(cur), id_), std::memory_order_acq_rel)) return gen_of(cur);
    }
}

void FdOwner::release(int fd, std::uint32_t gen) noexcept {
    if (Word* w = find_word(fd)) {
        std::uint64_t mine = word(gen, id_);
        w->compare_exchange_strong(mine, word(gen, 0), std::memory_order_acq_rel);
    }
}

void FdOwner::forgetting(int fd, const FdOwner* self) noexcept {
    Word* w = find_word(fd);
    if (w == nullptr) return;   // no hub ever held a number in its chunk
    std::uint64_t cur = w->load(std::memory_order_acquire);
    while (!w->compare_exchange_weak(cur, word(gen_of(cur) + 1, 0), std::memory_order_acq_rel)) {
    }
    std::uint32_t holder = holder_of(cur);
    if (holder == 0 || (self != nullptr && holder == self->id_)) return;
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = std::find(r.ids.begin(), r.ids.end(), holder);
    if (it != r.ids.end()) r.live[static_cast<std::size_t>(it - r.ids.begin())]->send(fd, gen_of(cur));
}

void FdOwner::send(int fd, std::uint32_t gen) noexcept {
    {
        std::lock_guard lock(mu_);
        try {
            sent_.emplace_back(fd, gen);
        } catch (...) {
            die("out of memory telling a hub that fd " + std::to_string(fd) + " was closed");
        }
        has_sent_.store(true, std::memory_order_release);
    }
    poller_.wake();
}

std::vector<std::pair<int, std::uint32_t>> FdOwner::take_sent() {
    std::vector<std::pair<int, std::uint32_t>> out;
    std::lock_guard lock(mu_);
    has_sent_.store(false, std::memory_order_relaxed);
    out.swap(sent_);
    return out;
}

void FdOwner::die_wrong_hub(int fd, std::uint32_t holder) noexcept {
    unsigned holder_index = 0;
    bool found = false;
    {
        Registry& r = registry();
        std::lock_guard lock(r.mu);
        auto it = std::find(r.ids.begin(), r.ids.end(), holder);
        if (it != r.ids.end()) {
            holder_index = r.live[static_cast<std::size_t>(it - r.ids.begin())]->hub_.index();
            found = true;
        }
    }
    die("fd " + std::to_string(fd) + " belongs to hub " + (found ? std::to_string(holder_index) : "?") +
        ", used from hub " + std::to_string(hub_.index()));
}

}  // namespace gev::detail
