// monkey/fd_table.cpp — the per-fd table: entries made on demand, classification of
// fds the hooks did not see created, and the switch to O_NONBLOCK underneath a
// blocking caller. Every call touches fd's entry and its one description: O(1), however
// many fds are open. Closing an fd erases its entry (its description goes when its last
// dup does). All system calls here go to the originals and leave errno as it was.
#include "monkey/fd_table.hpp"

#include "monkey/fd_desc.hpp"
#include "monkey/original.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

namespace gev::monkey::detail {

constinit std::atomic<FdEntry*> g_fd_chunks[kChunks]{};

namespace {

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

// Points e at description id (0: erases it) and lets go of what it pointed at.
void attach(FdEntry& e, std::uint32_t id) noexcept {
    e.files.fetch_add(1, std::memory_order_acq_rel);
    if (std::uint32_t old = e.desc.exchange(id, std::memory_order_acq_rel); old != 0) desc_release(old);
}

// Points e at a fresh description with these bits; nullptr when none could be made.
FdDesc* attach_fresh(FdEntry& e, std::uint32_t bits) noexcept {
    std::uint32_t id = desc_alloc();
    if (id == 0) {
        attach(e, 0);
        return nullptr;
    }
    FdDesc* d = desc_at(id);
    d->bits.store(bits, std::memory_order_release);
    attach(e, id);
    return d;
}

void read_timeouts(int fd, FdDesc& d) noexcept {
    timeval tv{};
    socklen_t len = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0)
        d.rcv_ns.store(encode_timeout(timeval_ns(tv)), std::memory_order_relaxed);
    len = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0)
        d.snd_ns.store(encode_timeout(timeval_ns(tv)), std::memory_order_relaxed);
}

// What an fd first seen by the hooks is: a socket (any fd) or a pipe (not stdin/out/
// err, whose open file description other processes usually share) may be managed later.
// 0 when fstat fails (EBADF: the real call will say so).
std::uint32_t classify_bits(int fd) noexcept {
    struct stat st;
    if (::fstat(fd, &st) != 0) return 0;
    std::uint32_t bits = static_cast<std::uint32_t>(FdKind::passthrough);
    if (S_ISREG(st.st_mode)) bits |= kRegular;
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
    return bits;
}

// Gives an unknown fd a description; returns the id e points at (another thread's,
// if it classified fd first), 0 when fd is not open or no description could be made.
std::uint32_t classify(int fd, FdEntry& e) noexcept {
    KeepErrno keep;
    std::uint32_t bits = classify_bits(fd);
    if (bits == 0) return 0;
    std::uint32_t id = desc_alloc();
    if (id == 0) return 0;
    desc_at(id)->bits.store(bits, std::memory_order_release);
    std::uint32_t seen = 0;
    if (e.desc.compare_exchange_strong(seen, id, std::memory_order_acq_rel)) return id;
    desc_release(id);
    return seen;
}

// Sets O_NONBLOCK under a caller who expects blocking calls; records the file's
// identity and its socket timeouts on the description, which every dup shares, as
// the kernel's flag does.
std::uint32_t manage(int fd, FdEntry& e, FdDesc& d, std::uint32_t bits) noexcept {
    KeepErrno keep;
    int fl = original::fcntl(fd, F_GETFL, nullptr);
    if (fl < 0) return bits;
    if (fl & O_NONBLOCK) {   // set behind the hooks' back: the caller's own choice
        return d.bits.fetch_or(kUserNonblock | kRealNonblock, std::memory_order_acq_rel) | kUserNonblock |
               kRealNonblock;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) return bits;
    if (!S_ISSOCK(st.st_mode) && !S_ISFIFO(st.st_mode)) {   // the number was reused unseen
        std::uint32_t fresh = static_cast<std::uint32_t>(FdKind::passthrough) | (S_ISREG(st.st_mode) ? kRegular : 0);
        attach_fresh(e, fresh);
        return fresh;
    }
    if (S_ISSOCK(st.st_mode)) read_timeouts(fd, d);
    if (original::fcntl(fd, F_SETFL, reinterpret_cast<void*>(static_cast<long>(fl | O_NONBLOCK))) != 0) return bits;
    d.ino.store(st.st_ino, std::memory_order_relaxed);
    d.dev.store(st.st_dev, std::memory_order_relaxed);
    return d.bits.fetch_or(kRealNonblock | kGevNonblock, std::memory_order_acq_rel) | kRealNonblock | kGevNonblock;
}

// A socket or pipe gev has not managed, seen by a hook that only routes regular files:
// the number may have been closed behind the hooks' back (a sanitizer's or the C
// library's own close) and now name a file, which manage() would have noticed.
FdView recheck_regular(int fd, FdEntry& e) noexcept {
    KeepErrno keep;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return {};
    attach_fresh(e, static_cast<std::uint32_t>(FdKind::passthrough) | kRegular);
    FdView v;
    v.regular = true;
    return v;
}

}  // namespace

FdEntry* fd_entry(int fd) noexcept {
    if (fd < 0 || fd >= kChunks * kChunkSize) return nullptr;
    FdEntry* chunk = chunk_for(g_fd_chunks, static_cast<std::uint32_t>(fd) >> kChunkBits);
    return chunk == nullptr ? nullptr : &chunk[fd & (kChunkSize - 1)];
}

void fd_created(int fd, FdKind kind, bool nonblock, bool stream) noexcept {
    FdEntry* e = fd_entry(fd);
    if (e == nullptr) return;
    std::uint32_t bits = static_cast<std::uint32_t>(kind);
    if (nonblock) bits |= kUserNonblock | kRealNonblock;
    if (stream) bits |= kStream;
    attach_fresh(*e, bits);
}

void fd_closed(int fd) noexcept {
    if (FdEntry* e = fd_find(fd)) {
        e->gen.fetch_add(1, std::memory_order_acq_rel);
        attach(*e, 0);
    }
}

void fd_copied(int from, int to) noexcept {
    FdEntry* src = fd_find(from);
    std::uint32_t id = src == nullptr ? 0 : src->desc.load(std::memory_order_acquire);
    // The source may be closed meanwhile: share its description only while it is alive.
    if (id != 0 && !desc_acquire(id)) id = 0;
    if (id != 0 && src->desc.load(std::memory_order_acquire) != id) {
        desc_release(id);
        id = 0;
    }
    FdEntry* dst = id != 0 ? fd_entry(to) : fd_find(to);
    if (dst != nullptr) attach(*dst, id);   // 0: the copy is unknown, classified on first use
    else if (id != 0) desc_release(id);
}

void fd_set_user_nonblock(int fd, bool on) noexcept {
    FdDesc* d = fd_desc(fd);
    if (d == nullptr) return;
    std::uint32_t b = d->bits.load(std::memory_order_acquire);
    std::uint32_t next;
    do {
        if (kind_of(b) != FdKind::pollable) return;
        next = on ? b | kUserNonblock : b & ~kUserNonblock;
        if (!(b & kGevNonblock)) next = on ? next | kRealNonblock : next & ~kRealNonblock;
    } while (!d->bits.compare_exchange_weak(b, next, std::memory_order_acq_rel, std::memory_order_acquire));
}

void fd_set_timeout(int fd, bool send, std::int64_t ns) noexcept {
    if (FdDesc* d = fd_desc(fd)) (send ? d->snd_ns : d->rcv_ns).store(encode_timeout(ns), std::memory_order_relaxed);
}

FdView fd_prepare_slow(int fd, bool adopt, bool may_manage) noexcept {
    FdEntry* e = adopt ? fd_entry(fd) : fd_find(fd);
    if (e == nullptr) return {};
    std::uint32_t id = e->desc.load(std::memory_order_acquire);
    if (id == 0) {
        if (!adopt) return {};
        id = classify(fd, *e);
        if (id == 0) return {};
    }
    FdDesc* d = desc_at(id);
    std::uint32_t bits = d->bits.load(std::memory_order_acquire);
    if (kind_of(bits) != FdKind::pollable || (bits & kUserNonblock)) {
        FdView v;
        v.regular = (bits & kRegular) != 0;
        return v;
    }
    if (!(bits & kRealNonblock)) {
        if (!may_manage) return adopt ? recheck_regular(fd, *e) : FdView{};
        bits = manage(fd, *e, *d, bits);
        if (!is_managed(bits)) {   // the caller's O_NONBLOCK, or a number reused unseen (a file now)
            FdView v;
            v.regular = (bits & kRegular) != 0;
            return v;
        }
    }
    return FdView{e, d, id, true, (bits & kStream) != 0, e->gen.load(std::memory_order_acquire)};
}

bool fd_stale(int fd, const FdView& v) noexcept {
    KeepErrno keep;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_ino == v.desc->ino.load(std::memory_order_relaxed) &&
        st.st_dev == v.desc->dev.load(std::memory_order_relaxed))
        return false;
    // The poller's registration of this number (a shared wait's tag) is the old file's.
    v.entry->files.fetch_add(1, std::memory_order_acq_rel);
    // Erase the entry only if it still points at the description the caller saw.
    std::uint32_t id = v.id;
    if (v.entry->desc.compare_exchange_strong(id, 0, std::memory_order_acq_rel)) desc_release(v.id);
    return true;
}

std::int64_t fd_timeout(const FdDesc& d, bool send) noexcept {
    std::int64_t v = (send ? d.snd_ns : d.rcv_ns).load(std::memory_order_relaxed);
    return v == 0 ? -1 : v - 1;
}

}  // namespace gev::monkey::detail
