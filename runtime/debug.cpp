// runtime/debug.cpp — format_run_info, dump_fibers and the SIGQUIT dump. A request is
// a reference-counted object: the asking fiber describes its own hub, posts a request
// to each other hub, and parks until the last one has answered or its patience ends;
// a late answer lands in the still-alive request and is dropped.
#include "runtime/debug.hpp"

#include "runtime/errors.hpp"
#include "runtime/hub.hpp"
#include "runtime/multi.hpp"
#include "runtime/symbolize.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace gev {
namespace detail {
namespace {

std::string seconds(std::int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ns < 0 ? 0 : ns) / 1e9);
    return buf;
}

// This hub's part of the dump; runs on the hub's own thread.
std::string describe_hub(Hub& hub) {
    std::int64_t now = clock_ns();
    std::string out = "hub " + std::to_string(hub.index()) + " (" + hub.poller().name() + "): " +
                      std::to_string(hub.live()) + (hub.live() == 1 ? " fiber\n" : " fibers\n");
    for (const Fiber* f = hub.fibers(); f != nullptr; f = f->all_next) {
        out += "  <" + f->display_name() + " id=" + std::to_string(f->id) + "> hub " + std::to_string(hub.index()) +
               ", " + describe_state(f->state);
        std::string why = describe_wait(f, now);
        if (!why.empty()) out += ": " + why;
        out += ", up " + seconds(now - f->spawn_ns);
        if (f->spawn_site != nullptr) out += ", spawned at " + symbolize(f->spawn_site);
        out += '\n';
    }
    return out;
}

struct Request {
    std::mutex mu;
    std::condition_variable cv;        // for a caller outside any fiber
    std::vector<std::string> parts;    // by hub index
    unsigned left = 0;
    Fiber* waiter = nullptr;           // the parked caller, while it waits
    std::uint64_t epoch = 0;
};
using RequestRef = std::shared_ptr<Request>;

void answer(void* arg, std::uint64_t index) {
    std::unique_ptr<RequestRef> ref(static_cast<RequestRef*>(arg));
    Request& r = **ref;
    std::string text;
    try {
        text = describe_hub(*Hub::current());
    } catch (...) {
        text = "hub " + std::to_string(index) + ": could not describe its fibers (out of memory)\n";
    }
    std::lock_guard lock(r.mu);
    r.parts[index] = std::move(text);
    if (--r.left != 0) return;
    if (r.waiter != nullptr) Hub::wake(r.waiter, r.epoch);
    r.cv.notify_all();
}

std::vector<Hub*> all_hubs(Hub& here) {
    if (here.runtime == nullptr) return {&here};
    std::lock_guard lock(here.runtime->mu);
    return here.runtime->hubs;
}

// Waits until every posted hub has answered or the deadline passed.
void await(Hub& hub, Request& r, std::chrono::milliseconds patience) {
    Fiber* self = current_fiber();
    bool in_fiber = self->hub == &hub && self->kind != FiberKind::root;
    std::int64_t deadline = hub.deadline_after(patience);
    auto until = std::chrono::steady_clock::now() + patience;
    std::unique_lock lock(r.mu);
    while (r.left > 0) {
        if (!in_fiber) {
            if (r.cv.wait_until(lock, until) == std::cv_status::timeout) break;
            continue;
        }
        r.waiter = self;
        r.epoch = self->epoch;
        lock.unlock();
        Wake w = hub.park(WaitReason{WaitKind::object, "format_run_info", &r}, deadline, false);
        lock.lock();
        if (w == Wake::timed_out) break;
    }
    r.waiter = nullptr;
}

}  // namespace
}  // namespace detail

std::string format_run_info(std::chrono::milliseconds patience) {
    using namespace detail;
    Hub& hub = Hub::require("gev::format_run_info");
    std::vector<Hub*> hubs = all_hubs(hub);
    auto req = std::make_shared<Request>();
    req->parts.resize(hubs.size());
    {
        std::lock_guard lock(req->mu);
        for (Hub* h : hubs)
            if (h != nullptr && h != &hub) ++req->left;
    }
    for (std::size_t i = 0; i < hubs.size(); ++i)
        if (hubs[i] != nullptr && hubs[i] != &hub) hubs[i]->post(answer, new RequestRef(req), i);
    std::string mine = describe_hub(hub);
    await(hub, *req, patience);
    std::string out;
    std::size_t total = 0;
    std::lock_guard lock(req->mu);
    for (std::size_t i = 0; i < hubs.size(); ++i) {
        if (hubs[i] == &hub) out += mine;
        else if (!req->parts[i].empty()) out += req->parts[i];
        else out += "hub " + std::to_string(i) + ": no answer within " + std::to_string(patience.count()) +
                    " ms (a fiber keeps it busy, or it has stopped)\n";
        if (hubs[i] != nullptr) total += 1;
    }
    return "gev: fibers of " + std::to_string(total) + (total == 1 ? " hub" : " hubs") + ", asked from hub " +
           std::to_string(hub.index()) + "\n" + out;
}

void dump_fibers(int fd) {
    std::string text = format_run_info();
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::system_error(errno, std::generic_category(), "gev::dump_fibers: write");
        off += static_cast<std::size_t>(n);
    }
}

void dump_fibers(std::FILE* out) {
    std::string text = format_run_info();
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0)
        throw std::system_error(errno, std::generic_category(), "gev::dump_fibers: fwrite");
}

SignalHandler enable_sigquit_dump() {
    detail::Hub::require("gev::enable_sigquit_dump");
    return signal_handler(SIGQUIT, [] {
        try {
            dump_fibers(2);
        } catch (const std::system_error& e) {
            std::fprintf(stderr, "gev: SIGQUIT dump failed: %s\n", e.what());
        }
    });
}

}  // namespace gev
