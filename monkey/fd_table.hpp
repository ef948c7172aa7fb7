// monkey/fd_table.hpp — what the caller believes about each fd, kept apart from what
// the kernel has. A socket or pipe that a fiber uses in blocking style is switched to
// O_NONBLOCK for real ("managed") while the caller keeps seeing its own flag through
// fcntl/ioctl; its SO_RCVTIMEO/SO_SNDTIMEO are mirrored here so waits can honour them.
// As in the kernel, that state belongs to the open file description (FdDesc), which
// every dup shares, so each call is O(1); an fd number (FdEntry) only points at it and
// counts its closes. Any thread: every field is atomic; both tables are zero-
// initialised, so they work before constructors run. Descriptions are recycled, never
// freed, so a racing reader always reads memory that is still a description.
// Invariant: an fd is managed only if gev set its O_NONBLOCK, and then every hooked
// call on it emulates the blocking behaviour — on any thread, patched or not.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gev::monkey::detail {

enum class FdKind : std::uint32_t {
    unknown = 0,    // not seen yet (or closed): classified on first use on a fiber
    passthrough,    // regular file, terminal, eventfd, ...: always the real call
    pollable,       // socket or pipe: may be managed
};

// One open file description, shared by every fd number that dups it.
struct FdDesc {
    std::atomic<std::uint32_t> bits{0};        // FdKind | flags below
    std::atomic<std::uint32_t> refs{0};        // fd numbers that point here; 0: on the free list
    std::atomic<std::int64_t> rcv_ns{0};       // SO_RCVTIMEO as ns + 1; 0: none
    std::atomic<std::int64_t> snd_ns{0};       // SO_SNDTIMEO likewise
    std::atomic<std::uint64_t> ino{0};         // identity of the managed file, to spot a stale entry
    std::atomic<std::uint64_t> dev{0};
    std::atomic<std::uint32_t> next_free{0};   // the free list's link (a description id)
};

// One fd number. It outlives every close: a fiber waiting on the number compares gen.
struct FdEntry {
    std::atomic<std::uint32_t> desc{0};   // its description's id; 0: nothing known (erased)
    std::atomic<std::uint32_t> gen{0};    // bumped at every close of this number
    // Bumped whenever the number may name another file: a new description attached, or
    // fd_stale's finding; with gen, the tag of the hub pollers' registration (wait.cpp).
    std::atomic<std::uint32_t> files{0};
};

inline constexpr std::uint32_t kKindMask = 3;
inline constexpr std::uint32_t kUserNonblock = 4;   // the caller asked for O_NONBLOCK
inline constexpr std::uint32_t kRealNonblock = 8;   // the kernel's flag is set (by gev or the caller)
inline constexpr std::uint32_t kStream = 16;        // partial transfers continue (TCP, pipes)
inline constexpr std::uint32_t kGevNonblock = 32;   // gev set the kernel's flag: the caller never sees it
inline constexpr std::uint32_t kRegular = 64;       // a regular file (passthrough): file IO may go to file_ops

inline FdKind kind_of(std::uint32_t bits) noexcept { return static_cast<FdKind>(bits & kKindMask); }
// Managed: gev set O_NONBLOCK underneath a caller who expects blocking calls.
inline bool is_managed(std::uint32_t bits) noexcept {
    return kind_of(bits) == FdKind::pollable && (bits & kGevNonblock) && !(bits & kUserNonblock);
}

// Both tables: chunks of 1024 made on demand, up to 2^20 fds (beyond that every call
// passes through) and as many descriptions.
inline constexpr int kChunkBits = 10;
inline constexpr int kChunkSize = 1 << kChunkBits;
inline constexpr int kChunks = 1 << 10;
extern constinit std::atomic<FdEntry*> g_fd_chunks[kChunks];
extern constinit std::atomic<FdDesc*> g_desc_chunks[kChunks];

// The entry for fd, creating its chunk; nullptr for fd < 0 or past the table's range.
FdEntry* fd_entry(int fd) noexcept;
// The entry if its chunk exists.
inline FdEntry* fd_find(int fd) noexcept {
    if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kChunks * kChunkSize)) return nullptr;
    FdEntry* chunk = g_fd_chunks[fd >> kChunkBits].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[fd & (kChunkSize - 1)];
}
// The description with this id (ids come only from the table, so its chunk exists).
inline FdDesc* desc_at(std::uint32_t id) noexcept {
    std::uint32_t i = id - 1;
    return &g_desc_chunks[i >> kChunkBits].load(std::memory_order_acquire)[i & (kChunkSize - 1)];
}
// fd's description, or nullptr when nothing is known about fd.
inline FdDesc* fd_desc(int fd) noexcept {
    FdEntry* e = fd_find(fd);
    std::uint32_t id = e == nullptr ? 0 : e->desc.load(std::memory_order_acquire);
    return id == 0 ? nullptr : desc_at(id);
}
// Descriptions in use (referenced by at least one fd number): the tests' leak check.
std::size_t fd_descs_in_use() noexcept;

// A new fd made by a hooked call (socket, accept, pipe, ...): the kernel's flag is the caller's.
void fd_created(int fd, FdKind kind, bool nonblock, bool stream) noexcept;
// The number is being closed (close, dup2 over it): erase its entry, bump gen.
void fd_closed(int fd) noexcept;
// `to` now shares `from`'s open file description (dup, dup2, F_DUPFD).
void fd_copied(int from, int to) noexcept;
// fcntl(F_SETFL) / ioctl(FIONBIO) succeeded: the caller's flag, on every dup of fd
// (and the kernel's, where gev has not set it).
void fd_set_user_nonblock(int fd, bool on) noexcept;
// setsockopt(SO_RCVTIMEO / SO_SNDTIMEO) succeeded: ns < 0 none, else the limit.
void fd_set_timeout(int fd, bool send, std::int64_t ns) noexcept;

// How a hooked IO call treats fd right now.
struct FdView {
    FdEntry* entry = nullptr;
    FdDesc* desc = nullptr;
    std::uint32_t id = 0;        // desc's id
    bool emulate = false;        // managed: loop "try, wait, retry" instead of the real call
    bool stream = true;
    std::uint32_t gen = 0;
    bool regular = false;        // not emulated: a regular file (hooks_file.cpp may route it)
};
// On a fiber (`adopt`), classifies an unknown fd and (with `may_manage`) manages a
// blocking socket or pipe (a few system calls, once per open file description);
// elsewhere only looks. Keeps errno.
FdView fd_prepare_slow(int fd, bool adopt, bool may_manage) noexcept;
inline FdView fd_prepare(int fd, bool adopt, bool may_manage) noexcept {
    if (FdEntry* e = fd_find(fd)) {   // the common cases, without a call
        if (std::uint32_t id = e->desc.load(std::memory_order_acquire); id != 0) {
            FdDesc* d = desc_at(id);
            std::uint32_t bits = d->bits.load(std::memory_order_acquire);
            if (is_managed(bits))
                return FdView{e, d, id, true, (bits & kStream) != 0, e->gen.load(std::memory_order_acquire)};
            if (kind_of(bits) == FdKind::passthrough || (bits & kUserNonblock)) {
                FdView v;
                v.regular = (bits & kRegular) != 0;
                return v;
            }
        }
    }
    return fd_prepare_slow(fd, adopt, may_manage);
}
inline FdView fd_prepare(int fd, bool adopt) noexcept { return fd_prepare(fd, adopt, adopt); }
// After EAGAIN on a managed fd: whether the number now names another file (it was
// closed behind the hooks' back, e.g. by fclose); then the entry is erased.
bool fd_stale(int fd, const FdView& v) noexcept;
// The timeout for a wait in direction `send`, in ns (< 0: none).
std::int64_t fd_timeout(const FdDesc& d, bool send) noexcept;

}  // namespace gev::monkey::detail
