// runtime/poller_uring.cpp — the io_uring backend: one ring per hub. Operations are
// queued as SQEs while fibers park and submitted once per scheduler turn together
// with the wait for completions. An op a kill, Timeout or deadline interrupts is
// cancelled in the kernel (IORING_OP_ASYNC_CANCEL) and its fiber waits for the
// cancellation to complete before its stack frame can be reused.
// Modes ($GEV_URING_MODE, for measuring): "submit" (default) hands every op to the kernel;
// "try" first makes the system call and submits only what would block; "poll" waits
// for readiness (POLL_ADD) and then makes the call, as epoll does.
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace gev::detail {
namespace {

enum class Mode { submit, try_first, poll };

// user_data of SQEs that are not an IoOp.
char g_wake_tag;
char g_cancel_tag;

// "submit" is the default: on the echo benchmark it cost 0.66x the server CPU per
// round trip of "try" and "poll" (perf/echo_bench.py, README "Performance").
Mode mode_from_env() {
    const char* m = std::getenv("GEV_URING_MODE");
    if (m != nullptr && std::strcmp(m, "try") == 0) return Mode::try_first;
    if (m != nullptr && std::strcmp(m, "poll") == 0) return Mode::poll;
    return Mode::submit;
}

class UringPoller final : public Poller {
public:
    UringPoller(Hub& hub, const io_uring& ring, int efd) : ring_(ring), hub_(hub), efd_(efd), mode_(mode_from_env()) {}
    ~UringPoller() override {
        io_uring_queue_exit(&ring_);
        ::close(efd_);
    }

    const char* name() const noexcept override { return "io_uring"; }
    std::size_t outstanding() const noexcept override { return inflight_; }

    void wake() noexcept override {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof one);
    }

    bool arm_wake() noexcept {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) return false;
        io_uring_prep_poll_multishot(sqe, efd_, POLLIN);
        io_uring_sqe_set_data(sqe, &g_wake_tag);
        return true;
    }

    void poll(std::int64_t timeout_ns) noexcept override {
        if (timeout_ns == 0) {
            if (inflight_ == 0 && io_uring_sq_ready(&ring_) == 0) return;
            io_uring_submit_and_get_events(&ring_);
        } else {
            io_uring_cqe* cqe = nullptr;
            __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
            io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout_ns < 0 ? nullptr : &ts, nullptr);
        }
        reap();
    }

    int io(IoOp& op, std::int64_t deadline_ns) override {
        bool readiness = op.kind == IoKind::poll || op.kind == IoKind::connect || mode_ == Mode::poll;
        FdState& s = fds_.at(op.fd);
        // Try the call first unless submitting is the mode; and always when another fiber
        // already has an operation in flight on this side: only waiting is exclusive.
        IoOp* busy = s.waiter[op.dir()];
        if (mode_ != Mode::submit || readiness || (busy != nullptr && busy != &op)) {
            int r = io_try(op);
            if (r != -EAGAIN) return r;
        }
        claim_side(s, op);
        struct Release {
            FdState& s;
            IoOp& op;
            ~Release() {
                if (s.waiter[op.dir()] == &op) s.waiter[op.dir()] = nullptr;
            }
        } release{s, op};
        for (;;) {
            int r = run(op, readiness, deadline_ns);
            if (r == -EAGAIN && !readiness) {   // a non-blocking fd: wait for readiness, then try
                readiness = true;
                continue;
            }
            if (!readiness || r < 0 || op.kind == IoKind::poll) return r;
            r = io_try(op);
            if (r != -EAGAIN) return r;
        }
    }

    void forget(int fd) noexcept override {
        FdState* s = fds_.find(fd);
        if (s == nullptr) return;
        // An operation still in the submission queue has not resolved its fd yet: hand it
        // to the kernel now, before the caller closes the number and it gets reused.
        if ((s->waiter[0] != nullptr || s->waiter[1] != nullptr) && io_uring_sq_ready(&ring_) != 0)
            io_uring_submit(&ring_);
        for (IoOp*& w : s->waiter) {
            if (w == nullptr) continue;
            cancel(*w);   // its fiber sees -ECANCELED: "closed by another fiber"
            w = nullptr;
        }
    }

private:
    io_uring_sqe* sqe() noexcept {
        io_uring_sqe* e = io_uring_get_sqe(&ring_);
        while (e == nullptr) {   // the queue is full: hand it to the kernel now
            io_uring_submit(&ring_);
            e = io_uring_get_sqe(&ring_);
        }
        return e;
    }

    void prep(io_uring_sqe* e, IoOp& op, bool readiness) noexcept {
        if (readiness) {
            io_uring_prep_poll_add(e, op.fd, static_cast<unsigned>(io_events(op)));
            return;
        }
        switch (op.kind) {
            case IoKind::recv: io_uring_prep_recv(e, op.fd, op.buf, op.len, op.flags); break;
            case IoKind::send: io_uring_prep_send(e, op.fd, op.buf, op.len, op.flags | MSG_NOSIGNAL); break;
            case IoKind::recvmsg: io_uring_prep_recvmsg(e, op.fd, op.msg, static_cast<unsigned>(op.flags)); break;
            case IoKind::sendmsg:
                io_uring_prep_sendmsg(e, op.fd, op.msg, static_cast<unsigned>(op.flags | MSG_NOSIGNAL));
                break;
            case IoKind::accept: io_uring_prep_accept(e, op.fd, op.addr, op.addrlen, op.flags); break;
            case IoKind::read: io_uring_prep_read(e, op.fd, op.buf, static_cast<unsigned>(op.len), ~0ULL); break;
            case IoKind::write: io_uring_prep_write(e, op.fd, op.buf, static_cast<unsigned>(op.len), ~0ULL); break;
            case IoKind::connect: case IoKind::poll: break;   // always by readiness
        }
    }

    // Submits op (or a readiness poll for it) and parks until the kernel has finished
    // with it. Returns the completion's result, -ETIMEDOUT or -ECANCELED (forgotten).
    int run(IoOp& op, bool readiness, std::int64_t deadline_ns) {
        io_uring_sqe* e = sqe();
        prep(e, op, readiness);
        io_uring_sqe_set_data(e, &op);
        ++inflight_;
        Fiber* self = current_fiber();
        op.fiber = self;
        op.done = false;
        op.res = 0;
        op.epoch = self->epoch;
        Wake w = hub_.park(io_reason(op), deadline_ns, false);
        if (!op.done) {
            // Timed out, killed, or a Timeout fired: the kernel must let go of op first.
            cancel(op);
            while (!op.done) {
                op.epoch = self->epoch;
                hub_.park(io_reason(op), -1, false);
            }
        }
        if (op.res == -ECANCELED) {   // cancelled: by a kill or Timeout, the deadline, or forget()
            if (self->pending) Hub::raise_pending(self);
            return w == Wake::timed_out ? -ETIMEDOUT : -ECANCELED;
        }
        return op.res;
    }

    void cancel(IoOp& op) noexcept {
        io_uring_sqe* e = sqe();
        io_uring_prep_cancel(e, &op, 0);
        io_uring_sqe_set_data(e, &g_cancel_tag);
    }

    void reap() noexcept {
        io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            void* data = io_uring_cqe_get_data(cqe);
            if (data == &g_cancel_tag) continue;
            if (data == &g_wake_tag) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(efd_, &v, sizeof v);
                if (!(cqe->flags & IORING_CQE_F_MORE)) arm_wake();
                continue;
            }
            auto* op = static_cast<IoOp*>(data);
            --inflight_;
            op->res = cqe->res;
            op->done = true;
            Hub::wake(op->fiber, op->epoch);
        }
        io_uring_cq_advance(&ring_, seen);
    }

    io_uring ring_;
    Hub& hub_;
    int efd_;
    Mode mode_;
    std::size_t inflight_ = 0;
    FdTable fds_;
};

// Sets the ring up with the most helpful flags this kernel accepts, dropping them one
// by one where it refuses (EINVAL).
int init_ring(io_uring& ring) {
    const unsigned wanted[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int r = -EINVAL;
    for (unsigned flags : wanted) {
        io_uring_params p{};
        p.flags = flags | IORING_SETUP_CQSIZE;
        p.cq_entries = 4096;
        r = io_uring_queue_init_params(256, &ring, &p);
        if (r != -EINVAL) return r;
    }
    return r;
}

}  // namespace

bool uring_built() noexcept { return true; }

std::unique_ptr<Poller> make_uring_poller(Hub& hub, std::error_code& ec) {
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        ec.assign(errno, std::generic_category());
        return nullptr;
    }
    io_uring ring{};
    int r = init_ring(ring);
    if (r < 0) {
        ec.assign(-r, std::generic_category());
        ::close(efd);
        return nullptr;
    }
    auto p = std::make_unique<UringPoller>(hub, ring, efd);
    if (!p->arm_wake()) {
        ec = std::make_error_code(std::errc::resource_unavailable_try_again);
        return nullptr;
    }
    return p;
}

}  // namespace gev::detail
