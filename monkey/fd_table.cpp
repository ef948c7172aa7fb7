// monkey/fd_table.cpp — the per-fd table: chunks of 1024 entries made on demand (up to
// 2^20 fds; beyond that every call passes through), classification of fds the hooks
// did not see created, and the switch to O_NONBLOCK underneath a blocking caller.
// All system calls here go to the originals and leave errno as it was.
#include "monkey/fd_table.hpp"

#include "monkey/original.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <new>

namespace gev::monkey::detail {

constinit std::atomic<FdEntry*> g_fd_chunks[kChunks]{};

namespace {

constinit std::atomic<int> g_high{-1};            // the largest fd with an entry
constinit std::atomic<std::uint32_t> g_next_desc{1};

struct KeepErrno {
    int saved = errno;
    ~KeepErrno() { errno = saved; }
};

std::int64_t encode_timeout(std::int64_t ns) noexcept { return ns < 0 ? 0 : ns + 1; }

std::int64_t timeval_ns(const timeval& tv) noexcept {
    if (tv.tv_sec == 0 && tv.tv_usec == 0) return -1;   // the kernel's "no timeout"
    if (tv.tv_sec < 0) return 0;
    return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
}

void note_high(int fd) noexcept {
    int h = g_high.load(std::memory_order_relaxed);
    while (fd > h && !g_high.compare_exchange_weak(h, fd, std::memory_order_relaxed)) {
    }
}

// Applies fn to every entry that shares fd's open file description.
template <class F>
void for_each_dup(int fd, F fn) noexcept {
    FdEntry* e = fd_find(fd);
    if (e == nullptr) return;
    std::uint32_t desc = e->desc.load(std::memory_order_relaxed);
    if (desc == 0) {
        fn(*e);
        return;
    }
    int high = g_high.load(std::memory_order_relaxed);
    for (int i = 0; i <= high; ++i)
        if (FdEntry* o = fd_find(i); o != nullptr && o->desc.load(std::memory_order_relaxed) == desc) fn(*o);
}

void read_timeouts(int fd, FdEntry& e) noexcept {
    timeval tv{};
    socklen_t len = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0)
        e.rcv_ns.store(encode_timeout(timeval_ns(tv)), std::memory_order_relaxed);
    len = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0)
        e.snd_ns.store(encode_timeout(timeval_ns(tv)), std::memory_order_relaxed);
}

// An fd first seen on a fiber: a socket (any fd) or a pipe (not stdin/out/err, whose
// open file description other processes usually share) may be managed later.
std::uint32_t classify(int fd, FdEntry& e) noexcept {
    struct stat st;
    if (::fstat(fd, &st) != 0) return 0;   // EBADF: the real call will say so
    std::uint32_t bits = static_cast<std::uint32_t>(FdKind::passthrough);
    bool sock = S_ISSOCK(st.st_mode);
    if (sock || (S_ISFIFO(st.st_mode) && fd > 2)) {
        int fl = original::fcntl(fd, F_GETFL, nullptr);
        if (fl < 0) return 0;
        bits = static_cast<std::uint32_t>(FdKind::pollable) | kStream;
        if (fl & O_NONBLOCK) bits |= kUserNonblock | kRealNonblock;
        if (sock) {
            int type = 0;
            socklen_t len = sizeof type;
            if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type != SOCK_STREAM) bits &= ~kStream;
        }
    }
    e.desc.store(g_next_desc.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
    e.bits.store(bits, std::memory_order_release);
    note_high(fd);
    return bits;
}

// Sets O_NONBLOCK under a caller who expects blocking calls; records the file's
// identity and its socket timeouts.
std::uint32_t manage(int fd, FdEntry& e, std::uint32_t bits) noexcept {
    int fl = original::fcntl(fd, F_GETFL, nullptr);
    if (fl < 0) return bits;
    if (fl & O_NONBLOCK) {   // set behind the hooks' back: the caller's own choice
        bits |= kUserNonblock | kRealNonblock;
        e.bits.store(bits, std::memory_order_release);
        return bits;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) return bits;
    if (!S_ISSOCK(st.st_mode) && !S_ISFIFO(st.st_mode)) {   // a stale entry: the number was reused unseen
        bits = static_cast<std::uint32_t>(FdKind::passthrough);
        e.bits.store(bits, std::memory_order_release);
        return bits;
    }
    if (S_ISSOCK(st.st_mode)) read_timeouts(fd, e);
    if (original::fcntl(fd, F_SETFL, reinterpret_cast<void*>(static_cast<long>(fl | O_NONBLOCK))) != 0) return bits;
    // Every dup shares the description, and so the flag just set.
    for_each_dup(fd, [&](FdEntry& d) {
        d.ino.store(st.st_ino, std::memory_order_relaxed);
        d.dev.store(st.st_dev, std::memory_order_relaxed);
        d.rcv_ns.store(e.rcv_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
        d.snd_ns.store(e.snd_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
        d.bits.fetch_or(kRealNonblock | kGevNonblock, std::memory_order_acq_rel);
    });
    return bits | kRealNonblock | kGevNonblock;
}

}  // namespace

FdEntry* fd_entry(int fd) noexcept {
    if (fd < 0 || fd >= kChunks * kChunkSize) return nullptr;
    std::atomic<FdEntry*>& slot = g_fd_chunks[fd >> kChunkBits];
    FdEntry* chunk = slot.load(std::memory_order_acquire);
    if (chunk == nullptr) {
        KeepErrno keep;
        auto* fresh = new (std::nothrow) FdEntry[kChunkSize];
        if (fresh == nullptr) return nullptr;
        if (slot.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) chunk = fresh;
        else delete[] fresh;   // another thread made it first
    }
    return &chunk[fd & (kChunkSize - 1)];
}

void fd_created(int fd, FdKind kind, bool nonblock, bool stream) noexcept {
    FdEntry* e = fd_entry(fd);
    if (e == nullptr) return;
    std::uint32_t bits = static_cast<std::uint32_t>(kind);
    if (nonblock) bits |= kUserNonblock | kRealNonblock;
    if (stream) bits |= kStream;
    e->desc.store(g_next_desc.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
    e->rcv_ns.store(0, std::memory_order_relaxed);
    e->snd_ns.store(0, std::memory_order_relaxed);
    e->ino.store(0, std::memory_order_relaxed);
    e->bits.store(bits, std::memory_order_release);
    note_high(fd);
}

void fd_closed(int fd) noexcept {
    if (FdEntry* e = fd_find(fd)) {
        e->gen.fetch_add(1, std::memory_order_acq_rel);
        e->bits.store(0, std::memory_order_release);
        e->desc.store(0, std::memory_order_relaxed);
    }
}

void fd_copied(int from, int to) noexcept {
    FdEntry* src = fd_find(from);
    FdEntry* dst = src != nullptr ? fd_entry(to) : fd_find(to);
    if (dst == nullptr) return;
    if (src == nullptr) {   // nothing known about the source: the copy is unknown too
        dst->bits.store(0, std::memory_order_release);
        return;
    }
    if (src->desc.load(std::memory_order_relaxed) == 0)   // give the source an id both can share
        src->desc.store(g_next_desc.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
    dst->desc.store(src->desc.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->rcv_ns.store(src->rcv_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->snd_ns.store(src->snd_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->ino.store(src->ino.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->dev.store(src->dev.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->bits.store(src->bits.load(std::memory_order_acquire), std::memory_order_release);
    note_high(to);
}

void fd_set_user_nonblock(int fd, bool on) noexcept {
    for_each_dup(fd, [on](FdEntry& e) {
        std::uint32_t b = e.bits.load(std::memory_order_acquire);
        if (kind_of(b) != FdKind::pollable) return;
        b = on ? b | kUserNonblock : b & ~kUserNonblock;
        if (!(b & kGevNonblock)) b = on ? b | kRealNonblock : b & ~kRealNonblock;
        e.bits.store(b, std::memory_order_release);
    });
}

void fd_set_timeout(int fd, bool send, std::int64_t ns) noexcept {
    for_each_dup(fd, [send, ns](FdEntry& e) {
        (send ? e.snd_ns : e.rcv_ns).store(encode_timeout(ns), std::memory_order_relaxed);
    });
}

FdView fd_prepare_slow(int fd, bool adopt) noexcept {
    FdEntry* e = adopt ? fd_entry(fd) : fd_find(fd);
    if (e == nullptr) return {};
    std::uint32_t bits = e->bits.load(std::memory_order_acquire);
    if (kind_of(bits) == FdKind::unknown) {
        if (!adopt) return {};
        KeepErrno keep;
        bits = classify(fd, *e);
    }
    if (kind_of(bits) != FdKind::pollable || (bits & kUserNonblock)) return {};
    if (!(bits & kRealNonblock)) {
        if (!adopt) return {};
        KeepErrno keep;
        bits = manage(fd, *e, bits);
        if (!is_managed(bits)) return {};
    }
    return FdView{e, true, (bits & kStream) != 0, e->gen.load(std::memory_order_acquire)};
}

bool fd_stale(int fd, FdEntry& e) noexcept {
    KeepErrno keep;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_ino == e.ino.load(std::memory_order_relaxed) &&
        st.st_dev == e.dev.load(std::memory_order_relaxed))
        return false;
    e.bits.store(0, std::memory_order_release);
    return true;
}

std::int64_t fd_timeout(const FdEntry& e, bool send) noexcept {
    std::int64_t v = (send ? e.snd_ns : e.rcv_ns).load(std::memory_order_relaxed);
    return v == 0 ? -1 : v - 1;
}

}  // namespace gev::monkey::detail
