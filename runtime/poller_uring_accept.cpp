// runtime/poller_uring_accept.cpp — the listeners' multishot accepts (see the header).
// A connection is handed to the waiting fiber as the completion of its accept op; with
// no waiter it is queued, and the next accept is served from the queue at the poller's
// next turn (never from arm(): the op's fiber is not parked yet). The peer's address is
// read with getpeername, since one multishot has no address buffer per connection.
#include "runtime/poller_uring_accept.hpp"

#include "runtime/clock.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

namespace gev::detail {
namespace {

constexpr int kAcceptFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;
// The user_data of a multishot's cancellation: a listener tag with no listener.
void* const kStopTag = reinterpret_cast<void*>(std::uintptr_t{1});

template <class T>
void* tagged(T* p) noexcept {
    return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) | 1);
}

}  // namespace

bool UringAccepts::probe(io_uring& ring) noexcept {
    io_uring_probe* p = io_uring_get_probe_ring(&ring);
    if (p == nullptr) return false;
    bool ok = io_uring_opcode_supported(p, IORING_OP_SOCKET) != 0;
    io_uring_free_probe(p);
    return ok;
}

UringAccepts::Listener* UringAccepts::find(int fd) noexcept {
    for (auto& l : listeners_)
        if (l->fd == fd) return l.get();
    return nullptr;
}

bool UringAccepts::arm(IoOp& op) noexcept {
    Listener* l = find(op.fd);
    if (l == nullptr) {
        if (!op.multishot) return false;
        listeners_.push_back(std::make_unique<Listener>());
        l = listeners_.back().get();
        l->fd = op.fd;
    }
    if ((l->plain || !op.multishot) && l->queue.empty()) return false;
    // Started before the waiter is set: a full submission queue reaps while it makes
    // room, and what that reaps must queue, not complete an op whose fiber still runs.
    if (l->queue.empty() && !l->live) start(*l);
    l->waiter = &op;
    if (!l->queue.empty()) due_.push_back(l);
    return true;
}

bool UringAccepts::readiness(IoOp& op) noexcept {
    Listener* l = find(op.fd);
    if (l == nullptr) return false;
    if (!l->plain) {
        l->plain = true;
        if (l->live) {
            if (!l->stopping) stop(*l);
            std::int64_t give_up = clock_ns() + 1'000'000'000;
            while (l->live && clock_ns() < give_up && ring_.turn()) {
            }
        }
        if (l->waiter != nullptr && l->queue.empty() && !l->live) to_kernel(*l);
    }
    if (op.kind != IoKind::poll || !(op.flags & POLLIN) || l->queue.empty()) return false;
    polls_due_.push_back(&op);
    return true;
}

bool UringAccepts::cancel(IoOp& op) noexcept {
    if (op.kind == IoKind::poll) {
        if (std::erase(polls_due_, &op) == 0) return false;
        ring_.finish(op, -ECANCELED);
        return true;
    }
    Listener* l = find(op.fd);
    if (l == nullptr || l->waiter != &op) return false;
    l->waiter = nullptr;
    std::erase(due_, l);
    idle_check_ = true;
    ring_.finish(op, -ECANCELED);
    return true;
}

void UringAccepts::serve_due() noexcept {
    std::vector<Listener*> due;
    due.swap(due_);
    for (Listener* l : due) serve(*l);
    std::vector<IoOp*> polls;
    polls.swap(polls_due_);
    for (IoOp* op : polls) ring_.finish(*op, POLLIN);
}

void UringAccepts::stop_unwaited() noexcept {
    idle_check_ = false;
    for (auto& l : listeners_)
        if (l->live && !l->stopping && l->waiter == nullptr) stop(*l);
}

void UringAccepts::completion(void* data, int res, bool more) noexcept {
    auto* l = reinterpret_cast<Listener*>(reinterpret_cast<std::uintptr_t>(data) & ~std::uintptr_t{1});
    if (l == nullptr) return;   // a stop's own completion
    if (!more) {
        l->live = false;
        l->stopping = false;
    }
    if (l->retired) {
        if (res >= 0) ::close(res);
        if (!l->live) reclaim();
        return;
    }
    if (res != -ECANCELED) l->queue.push_back(res);   // an error (EMFILE): the next accept reports it
    if (l->queue.size() >= kQueueCap && l->live && !l->stopping) stop(*l);
    serve(*l);
}

void UringAccepts::serve(Listener& l) noexcept {
    if (l.waiter == nullptr) return;
    if (l.queue.empty()) {
        if (l.live) return;
        if (l.plain || !l.waiter->multishot) to_kernel(l);   // one accept per call
        else start(l);   // it ended (full queue, an error, a CQ overflow): go on
        return;
    }
    int res = l.queue.front();
    l.queue.pop_front();
    IoOp& op = *std::exchange(l.waiter, nullptr);
    std::erase(due_, &l);
    idle_check_ = true;
    deliver(op, res);
}

// The waiter becomes an ordinary submitted accept: its completion and cancellation are
// the poller's own from here on.
void UringAccepts::to_kernel(Listener& l) noexcept {
    IoOp& op = *std::exchange(l.waiter, nullptr);
    std::erase(due_, &l);
    io_uring_sqe* e = ring_.take_sqe();
    io_uring_prep_accept(e, op.fd, op.addr, op.addrlen, op.flags);
    io_uring_sqe_set_data(e, &op);
}

void UringAccepts::deliver(IoOp& op, int res) noexcept {
    if (res >= 0 && op.addr != nullptr && op.addrlen != nullptr) {
        if (::getpeername(res, op.addr, op.addrlen) != 0) *op.addrlen = 0;   // reset already
    }
    ring_.finish(op, res);
}

void UringAccepts::start(Listener& l) noexcept {
    io_uring_sqe* e = ring_.take_sqe();
    io_uring_prep_multishot_accept(e, l.fd, nullptr, nullptr, kAcceptFlags);
    io_uring_sqe_set_data(e, tagged(&l));
    l.live = true;
}

void UringAccepts::stop(Listener& l) noexcept {
    io_uring_sqe* e = ring_.take_sqe();
    io_uring_prep_cancel(e, tagged(&l), 0);
    io_uring_sqe_set_data(e, kStopTag);
    l.stopping = true;
}

void UringAccepts::release(int fd) noexcept {
    auto it = std::find_if(listeners_.begin(), listeners_.end(), [fd](auto& l) { return l->fd == fd; });
    if (it == listeners_.end()) return;
    std::unique_ptr<Listener> owned = std::move(*it);
    listeners_.erase(it);
    Listener* l = owned.get();
    std::erase(due_, l);
    for (int r : l->queue)
        if (r >= 0) ::close(r);
    l->queue.clear();
    if (IoOp* op = std::exchange(l->waiter, nullptr)) ring_.finish(*op, -ECANCELED);
    l->retired = true;
    if (!l->live) return;
    if (!l->stopping) stop(*l);
    retired_.push_back(std::move(owned));
    std::int64_t give_up = clock_ns() + 1'000'000'000;
    auto gone = [&] { return std::none_of(retired_.begin(), retired_.end(), [l](auto& r) { return r.get() == l; }); };
    while (!gone() && ring_.turn()) {
        if (clock_ns() > give_up) {
            std::fprintf(stderr, "gev: io_uring still accepts on fd %d 1 s after cancelling it\n", fd);
            return;
        }
    }
}

void UringAccepts::reclaim() noexcept {
    std::erase_if(retired_, [](auto& r) { return !r->live; });
}

void UringAccepts::shutdown(bool own_ring) noexcept {
    if (!own_ring) {
        for (auto& l : listeners_)
            for (int r : l->queue)
                if (r >= 0) ::close(r);
        listeners_.clear();
        retired_.clear();
        due_.clear();
        return;
    }
    while (!listeners_.empty()) release(listeners_.back()->fd);
    for (std::int64_t give_up = clock_ns() + 1'000'000'000; !retired_.empty() && clock_ns() < give_up;)
        if (!ring_.turn()) break;
}

}  // namespace gev::detail
