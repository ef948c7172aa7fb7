// runtime/poller_uring.cpp — the io_uring backend: one ring per hub. Operations are
// queued as SQEs while fibers park and submitted once per scheduler turn together
// with the wait for completions, which it reports to the common layer (io_wait.cpp).
// An op a kill, Timeout, deadline or forget interrupts is cancelled here in the kernel
// (IORING_OP_ASYNC_CANCEL); the common layer keeps its fiber parked until the
// cancellation completes, before its stack frame can be reused. Under pressure: a full
// submission queue is flushed (completions reaped, so the kernel takes more) a bounded
// number of times; the wake-up poll (multishot, on an eventfd never read back) is
// re-armed before every blocking wait, so it cannot be lost; nothing that can fail runs
// once an SQE names an op; forget() waits for the kernel to let go of the fd.
// $GEV_URING_ENTRIES sizes the ring (default 256).
// Modes ($GEV_URING_MODE, for measuring): "submit" (default) hands every op to the kernel;
// "try" first makes the system call and submits only what would block; "poll" waits
// for readiness (POLL_ADD) and then makes the call, as epoll does.
#include "runtime/poller.hpp"

#include "runtime/errors.hpp"
#include "runtime/hub.hpp"
#include "runtime/poller_fds.hpp"
#include "runtime/poller_uring_accept.hpp"

#include <liburing.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace gev::detail {
namespace {

enum class Mode { submit, try_first, poll };

// user_data of SQEs that are not an IoOp; aligned, since a set low bit means a listener
// (poller_uring_accept.hpp).
alignas(8) char g_wake_tag;
alignas(8) char g_cancel_tag;

// "submit" is the default: on the echo benchmark it cost 0.66x the server CPU per
// round trip of "try" and "poll" (perf/echo_bench.py, README "Performance").
Mode mode_from_env() {
    const char* m = std::getenv("GEV_URING_MODE");
    if (m != nullptr && std::strcmp(m, "try") == 0) return Mode::try_first;
    if (m != nullptr && std::strcmp(m, "poll") == 0) return Mode::poll;
    return Mode::submit;
}

class UringPoller final : public Poller, private UringRing {
public:
    UringPoller(Hub& hub, const io_uring& ring, int efd)
        : Poller(hub, style(mode_from_env())),
          ring_(ring),
          efd_(efd),
          accepts_(*this, mode_from_env() == Mode::submit && UringAccepts::probe(ring_)) {
        probe_file_ops();
        // The hub's thread is the ring's only user: a registered ring fd spares the kernel
        // an fd lookup on every io_uring_enter. Without it (before 5.18) the fd is used.
        io_uring_register_ring_fd(&ring_);
    }
    ~UringPoller() override {
        retire();
        // In a forked child the ring is the parent's (hub.cpp drops the old poller there):
        // only the child's copies of the queued fds are closed, nothing is submitted.
        accepts_.shutdown(::getpid() == pid_);
        io_uring_queue_exit(&ring_);
        ::close(efd_);
    }

    const char* name() const noexcept override { return "io_uring"; }

    void wake() noexcept override {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof one);
    }

    // The multishot poll on the eventfd that wake() writes to. It ends (a completion
    // without IORING_CQE_F_MORE) when the completion queue overflows, among others.
    // Re-armed on a counter left non-zero, it posts once at once: one spare turn.
    void arm_wake() noexcept {
        io_uring_sqe* e = sqe();
        io_uring_prep_poll_multishot(e, efd_, POLLIN);
        io_uring_sqe_set_data(e, &g_wake_tag);
        wake_armed_ = true;
    }

    void poll(std::int64_t timeout_ns) noexcept override {
        if (forgets_sent()) take_forgets();
        accepts_.stop_idle();
        if (accepts_.due()) [[unlikely]] {
            accepts_.serve_due();   // accepts served from a listener's queue
            timeout_ns = 0;
        }
        if (timeout_ns == 0) {
            if (outstanding() == 0 && io_uring_sq_ready(&ring_) == 0) {
                owes_turn_ = false;
                return;
            }
            io_uring_submit_and_get_events(&ring_);
        } else {
            if (!wake_armed_) arm_wake();   // a blocking wait must be one wake() can end
            io_uring_cqe* cqe = nullptr;
            __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
            io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout_ns < 0 ? nullptr : &ts, nullptr);
        }
        reap();
        if (forgets_sent()) take_forgets();
        owes_turn_ = io_uring_sq_ready(&ring_) != 0 || accepts_.owes_turn();
    }

private:
    // Which file kinds this kernel's io_uring has; the rest go to the thread pool.
    void probe_file_ops() noexcept {
        io_uring_probe* p = io_uring_get_probe_ring(&ring_);
        if (p == nullptr) return;
        const int codes[] = {IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_OPENAT, IORING_OP_STATX};
        for (int i = 0; i < 5; ++i) file_ops_[i] = io_uring_opcode_supported(p, codes[i]) != 0;
        io_uring_free_probe(p);
    }

    // Submit mode hands the call to the kernel at once; poll mode waits for readiness
    // (POLL_ADD) and then makes the call, as epoll does; try mode makes the call first.
    static Style style(Mode m) noexcept { return {true, m == Mode::poll, m != Mode::submit}; }

    bool takes_file_kind(IoKind k) const noexcept override {
        return file_ops_[static_cast<int>(k) - static_cast<int>(IoKind::pread)];
    }

    int arm(IoOp& op, FdState*, bool readiness) noexcept override {
        owes_turn_ = true;   // a submission, or a listener's queue to serve
        if (!readiness && accepts_.wants(op)) [[unlikely]] {
            if (accepts_.arm(op)) return 0;
        } else if (readiness && accepts_.readiness(op)) [[unlikely]] {
            return 0;   // connections are queued: answered POLLIN at the next turn
        }
        io_uring_sqe* e = sqe();
        prep(e, op, readiness);
        io_uring_sqe_set_data(e, &op);
        return 0;
    }

    void release(int fd) noexcept override {
        accepts_.release(fd);
        owes_turn_ = true;
    }

    // UringRing, for the listeners.
    io_uring_sqe* take_sqe() noexcept override { return sqe(); }
    void finish(IoOp& op, int res) noexcept override { completed(op, res); }
    bool turn() noexcept override {
        if (reaping_) return false;
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec ts{0, 10'000'000};
        io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        reap();
        return true;
    }

    void drain(int fd, IoOp* const (&held)[2]) noexcept override {
        std::int64_t give_up = clock_ns() + 1'000'000'000;
        auto done = [&] { return (held[0] == nullptr || held[0]->done) && (held[1] == nullptr || held[1]->done); };
        while (!done() && !reaping_) {
            io_uring_cqe* cqe = nullptr;
            __kernel_timespec ts{0, 10'000'000};
            io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
            reap();
            if (!done() && clock_ns() > give_up) {
                std::fprintf(stderr, "gev: io_uring still holds an operation on fd %d 1 s after cancelling it\n", fd);
                return;
            }
        }
    }

    // A free SQE. Inline: every submitted op takes one.
    io_uring_sqe* sqe() noexcept {
        owes_turn_ = true;
        if (io_uring_sqe* e = io_uring_get_sqe(&ring_)) [[likely]] return e;
        return sqe_when_full();
    }

    // When the queue is full, hands it to the kernel and reaps, so that a kernel refusing
    // submissions while completions wait (EBUSY) takes them again; gives up after a
    // second of that.
    [[gnu::noinline]] io_uring_sqe* sqe_when_full() noexcept {
        std::int64_t give_up = clock_ns() + 1'000'000'000;
        for (unsigned round = 1;; ++round) {
            int r = io_uring_submit_and_get_events(&ring_);
            reap();
            if (io_uring_sqe* e = io_uring_get_sqe(&ring_)) return e;
            if (clock_ns() > give_up)
                die("io_uring: the submission queue stayed full for 1 s (last submit: " +
                    std::string(r < 0 ? std::strerror(-r) : "ok") + ")");
            if (round > 8) {
                timespec pause{0, 50'000};
                ::nanosleep(&pause, nullptr);
            }
        }
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
            case IoKind::pread: io_uring_prep_read(e, op.fd, op.buf, static_cast<unsigned>(op.len), op.offset); break;
            case IoKind::pwrite: io_uring_prep_write(e, op.fd, op.buf, static_cast<unsigned>(op.len), op.offset); break;
            case IoKind::fsync: io_uring_prep_fsync(e, op.fd, op.flags == 1 ? IORING_FSYNC_DATASYNC : 0); break;
            case IoKind::openat:
                io_uring_prep_openat(e, op.fd, op.path, op.flags, static_cast<mode_t>(op.mode));
                break;
            case IoKind::statx:
                io_uring_prep_statx(e, op.fd, op.path, op.flags, static_cast<unsigned>(op.len),
                                    static_cast<struct statx*>(op.buf));
                break;
        }
    }

    void cancel(IoOp& op) noexcept override {
        owes_turn_ = true;   // the cancellation, or a listener left without a waiter
        if ((op.kind == IoKind::accept || op.kind == IoKind::poll) && accepts_.cancel(op)) return;
        io_uring_sqe* e = sqe();
        io_uring_prep_cancel(e, &op, 0);
        io_uring_sqe_set_data(e, &g_cancel_tag);
    }

    void reap() noexcept {
        if (reaping_) return;
        reaping_ = true;
        io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            void* data = io_uring_cqe_get_data(cqe);
            if (data == &g_cancel_tag) continue;
            if (data == &g_wake_tag) {
                // Not read back: a multishot poll posts on each write's wake-up, readable
                // or not (io_uring's poll is edge-triggered), so a woken hub makes no read(2).
                if (!(cqe->flags & IORING_CQE_F_MORE)) wake_armed_ = false;   // re-armed before the next block
                continue;
            }
            if (UringAccepts::is_listener(data)) [[unlikely]] {
                accepts_.completion(data, cqe->res, (cqe->flags & IORING_CQE_F_MORE) != 0);
                continue;
            }
            completed(*static_cast<IoOp*>(data), cqe->res);
        }
        io_uring_cq_advance(&ring_, seen);
        reaping_ = false;
    }

    io_uring ring_;
    int efd_;
    bool wake_armed_ = false;
    bool reaping_ = false;
    bool file_ops_[5] = {};   // by IoKind from pread on
    UringAccepts accepts_;
    const pid_t pid_ = ::getpid();
};

// $GEV_URING_ENTRIES: submission queue entries (1..32768; the kernel rounds up to a
// power of two); the completion queue gets 16 times as many, at most 65536.
unsigned ring_entries(std::error_code& ec) {
    const char* env = std::getenv("GEV_URING_ENTRIES");
    if (env == nullptr || *env == '\0') return 256;
    char* end = nullptr;
    unsigned long n = std::strtoul(env, &end, 10);
    if (*end != '\0' || n < 1 || n > 32768) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return 0;
    }
    return static_cast<unsigned>(n);
}

// Sets the ring up with the most helpful flags this kernel accepts, dropping them one
// by one where it refuses (EINVAL). A kernel that drops completions when the completion
// queue overflows (no IORING_FEAT_NODROP, before 5.5) would lose wake-ups: refused.
int init_ring(io_uring& ring, unsigned entries) {
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
        p.cq_entries = std::min(entries * 16, 65536u);
        r = io_uring_queue_init_params(entries, &ring, &p);
        if (r == -EINVAL) continue;
        if (r == 0 && !(p.features & IORING_FEAT_NODROP)) {
            io_uring_queue_exit(&ring);
            return -ENOSYS;
        }
        return r;
    }
    return r;
}

}  // namespace

bool uring_built() noexcept { return true; }

std::unique_ptr<Poller> make_uring_poller(Hub& hub, std::error_code& ec) {
    unsigned entries = ring_entries(ec);
    if (entries == 0) return nullptr;
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        ec.assign(errno, std::generic_category());
        return nullptr;
    }
    io_uring ring{};
    int r = init_ring(ring, entries);
    if (r < 0) {
        ec.assign(-r, std::generic_category());
        ::close(efd);
        return nullptr;
    }
    auto p = std::make_unique<UringPoller>(hub, ring, efd);
    p->arm_wake();
    return p;
}

}  // namespace gev::detail
