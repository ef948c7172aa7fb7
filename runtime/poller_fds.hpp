// runtime/poller_fds.hpp — which hub holds each fd number, and the number's generation.
// Process-wide (a close may happen on any thread): one atomic word per number, the
// generation bumped by every forget, so a hub sees that a number it registered was
// closed behind its back and possibly reused (Go's netpoll carries the same generation
// in its event data). A socket's fd belongs to the first hub that waits on it for a
// socket operation until it is forgotten (closed or detached); a socket wait on another
// hub meanwhile is a bug and ends the program with a message. Watches and raw waits
// (wait_read, select, monkey patching) hold nothing. Used by the poller backends only.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace gev::detail {

class Hub;
class Poller;

// One poller's identity in the table, and the forgets other threads sent it.
class FdOwner {
public:
    FdOwner(Hub& hub, Poller& poller);
    FdOwner(const FdOwner&) = delete;
    FdOwner& operator=(const FdOwner&) = delete;
    ~FdOwner() { retire(); }

    // The number's generation now (0 for a number never forgotten).
    static std::uint32_t generation(int fd) noexcept;
    // Makes this poller the holder of fd and returns the generation it holds it at.
    // Ends the program ("gev: fd 7 belongs to hub 1, used from hub 0") when another
    // poller holds it. Throws std::bad_alloc.
    std::uint32_t claim(int fd);
    // This poller stops holding fd, which stays open (a poller going away).
    void release(int fd, std::uint32_t gen) noexcept;
    // Any thread: fd is about to be closed or handed away. Bumps its generation and,
    // when a poller other than `self` (null: none) held it, sends that poller (fd, the
    // old generation) and wakes it.
    static void forgetting(int fd, const FdOwner* self) noexcept;
    // What other threads sent (owning thread): cheap to ask, then taken in one go.
    bool has_sent() const noexcept { return has_sent_.load(std::memory_order_acquire); }
    std::vector<std::pair<int, std::uint32_t>> take_sent();
    // Leaves the table: nothing is sent here afterwards. Call it before the poller's
    // wake() stops working (first thing in its destructor). Idempotent.
    void retire() noexcept;

private:
    void send(int fd, std::uint32_t gen) noexcept;
    [[noreturn]] void die_wrong_hub(int fd, std::uint32_t holder) noexcept;

    Hub& hub_;
    Poller& poller_;
    std::uint32_t id_;
    bool retired_ = false;
    std::mutex mu_;
    std::vector<std::pair<int, std::uint32_t>> sent_;
    std::atomic<bool> has_sent_{false};
};

}  // namespace gev::detail
