// monkey/fd_table.hpp — what the caller believes about each fd, kept apart from what
// the kernel has. A socket or pipe that a fiber uses in blocking style is switched to
// O_NONBLOCK for real ("managed") while the caller keeps seeing its own flag through
// fcntl/ioctl; its SO_RCVTIMEO/SO_SNDTIMEO are mirrored here so waits can honour them.
// Any thread (fds are process-wide): every field is atomic. The table is zero-
// initialised (a constant), so it works before constructors run. One invariant: an fd
// is managed only if gev set its O_NONBLOCK, and then every hooked call on it emulates
// the blocking behaviour — on any thread, patched or not.
#pragma once

#include <atomic>
#include <cstdint>

namespace gev::monkey::detail {

enum class FdKind : std::uint32_t {
    unknown = 0,    // not seen yet (or closed): classified on first use on a fiber
    passthrough,    // regular file, terminal, eventfd, ...: always the real call
    pollable,       // socket or pipe: may be managed
};

struct FdEntry {
    std::atomic<std::uint32_t> bits{0};    // FdKind | flags below
    std::atomic<std::uint32_t> desc{0};    // open file description id, shared by dups
    std::atomic<std::uint32_t> gen{0};     // bumped at every close of this number
    std::atomic<std::int64_t> rcv_ns{0};   // SO_RCVTIMEO as ns + 1; 0: none
    std::atomic<std::int64_t> snd_ns{0};   // SO_SNDTIMEO likewise
    std::atomic<std::uint64_t> ino{0};     // identity of the managed file, to spot a stale entry
    std::atomic<std::uint64_t> dev{0};
};

inline constexpr std::uint32_t kKindMask = 3;
inline constexpr std::uint32_t kUserNonblock = 4;   // the caller asked for O_NONBLOCK
inline constexpr std::uint32_t kRealNonblock = 8;   // the kernel's flag is set (by gev or the caller)
inline constexpr std::uint32_t kStream = 16;        // partial transfers continue (TCP, pipes)
inline constexpr std::uint32_t kGevNonblock = 32;   // gev set the kernel's flag: the caller never sees it

inline FdKind kind_of(std::uint32_t bits) noexcept { return static_cast<FdKind>(bits & kKindMask); }
// Managed: gev set O_NONBLOCK underneath a caller who expects blocking calls.
inline bool is_managed(std::uint32_t bits) noexcept {
    return kind_of(bits) == FdKind::pollable && (bits & kGevNonblock) && !(bits & kUserNonblock);
}

inline constexpr int kChunkBits = 10;
inline constexpr int kChunkSize = 1 << kChunkBits;
inline constexpr int kChunks = 1 << 10;
extern constinit std::atomic<FdEntry*> g_fd_chunks[kChunks];

// The entry for fd, creating its chunk; nullptr for fd < 0 or past the table's range.
FdEntry* fd_entry(int fd) noexcept;
// The entry if its chunk exists.
inline FdEntry* fd_find(int fd) noexcept {
    if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kChunks * kChunkSize)) return nullptr;
    FdEntry* chunk = g_fd_chunks[fd >> kChunkBits].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[fd & (kChunkSize - 1)];
}

// A new fd made by a hooked call (socket, accept, pipe, ...): the kernel's flag is the caller's.
void fd_created(int fd, FdKind kind, bool nonblock, bool stream) noexcept;
// The number is being closed (close, dup2 over it): forget everything, bump gen.
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
    bool emulate = false;        // managed: loop "try, wait, retry" instead of the real call
    bool stream = true;
    std::uint32_t gen = 0;
};
// On a fiber (`adopt`), classifies an unknown fd and manages a blocking socket or
// pipe (a few system calls, once per fd); elsewhere only looks. Keeps errno.
FdView fd_prepare_slow(int fd, bool adopt) noexcept;
inline FdView fd_prepare(int fd, bool adopt) noexcept {
    if (FdEntry* e = fd_find(fd)) {   // the common cases, without a call
        std::uint32_t bits = e->bits.load(std::memory_order_acquire);
        if (is_managed(bits)) return FdView{e, true, (bits & kStream) != 0, e->gen.load(std::memory_order_acquire)};
        if (kind_of(bits) == FdKind::passthrough || (bits & kUserNonblock)) return {};
    }
    return fd_prepare_slow(fd, adopt);
}
// After EAGAIN on a managed fd: whether the number now names another file (it was
// closed behind the hooks' back, e.g. by fclose); then the entry is dropped.
bool fd_stale(int fd, FdEntry& e) noexcept;
// The timeout for a wait in direction `send`, in ns (< 0: none).
std::int64_t fd_timeout(const FdEntry& e, bool send) noexcept;

}  // namespace gev::monkey::detail
