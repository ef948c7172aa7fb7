// net/server.cpp — the accept loop and handler bookkeeping of StreamServer.
#include "net/server.hpp"

#include "runtime/hub.hpp"
#include "runtime/joinall.hpp"
#include "runtime/sleep.hpp"

#include "runtime/run.hpp"
#include "runtime/shield.hpp"
#include "sync/pool.hpp"

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gev::net {

struct StreamServer::State {
    Address at;
    StreamHandler handler;
    ServerOptions options;
    Socket listener;
    Greenlet<> acceptor;
    std::vector<Greenlet<>> children;   // the listeners on other hubs (reuse_port mode)
    unsigned next_hub = 0;              // handoff mode: where the next connection goes
    unsigned hubs = 1;                  // hubs served
    std::mutex mu;                      // handlers may end on other hubs (handoff mode)
    std::unordered_map<std::uint64_t, Greenlet<>> handlers;
    detail::WaitList slot_waiters;   // the acceptor, parked at the connection limit
    detail::WaitList stop_waiters;   // serve_forever
    bool started = false;
    bool closed = false;
    MaybeDuration grace = std::chrono::seconds(1);
};

namespace {

using State = StreamServer::State;

// Callers hold the state's lock when the list may be shared across hubs.
void wake_all(detail::WaitList& l) {
    while (detail::Waiter* w = l.pop_front()) {
        w->woken = true;
        detail::Hub::wake(w->fiber, w->epoch);
    }
}

void park_on(detail::WaitList& l, const char* what, const void* obj) {
    detail::Hub& hub = detail::Hub::require("StreamServer");
    detail::Fiber* self = detail::current_fiber();
    detail::Waiter w;
    w.fiber = self;
    w.epoch = self->epoch;
    l.push_back(&w);
    try {
        hub.park(detail::WaitReason{detail::WaitKind::object, what, obj});
    } catch (...) {
        l.remove(&w);
        throw;
    }
    l.remove(&w);
}

bool transient_accept_error(int err) {
    return err == ECONNABORTED || err == EPROTO || err == EPERM || err == ENETDOWN || err == ENOPROTOOPT ||
           err == EHOSTDOWN || err == ENONET || err == EHOSTUNREACH || err == EOPNOTSUPP || err == ENETUNREACH ||
           err == EINTR;
}

std::size_t handler_count(State& st) {
    std::lock_guard lock(st.mu);
    return st.handlers.size();
}

void spawn_handler(const std::shared_ptr<State>& st, Socket conn, Address peer) {
    auto body = [st](Socket c, Address a) {
        struct Done {
            State& s;
            ~Done() {
                std::lock_guard lock(s.mu);
                s.handlers.erase(detail::current_fiber()->id);
                wake_all(s.slot_waiters);
            }
        } done{*st};
        st->handler(std::move(c), a);
    };
    if (Group* pool = st->options.pool) {
        auto g = pool->spawn(body, std::move(conn), peer);   // may park: outside st->mu
        std::lock_guard lock(st->mu);                        // g has not run yet
        st->handlers.emplace(g.id(), g);
        return;
    }
    // The accepted fd was never waited on here, so it may go to another hub as it is.
    unsigned target = st->hubs > 1 ? st->next_hub++ % st->hubs : gev::hub_index();
    std::lock_guard lock(st->mu);
    auto g = target == gev::hub_index() ? gev::spawn(body, std::move(conn), peer)
                                        : gev::spawn_on(target, body, std::move(conn), peer);
    st->handlers.emplace(g.id(), g);
}

// Parks until a handler ends and frees a slot under ServerOptions::max_connections.
void wait_for_slot(const std::shared_ptr<State>& st) {
    detail::Hub& hub = detail::Hub::require("StreamServer");
    detail::Fiber* self = detail::current_fiber();
    detail::Waiter w;
    w.fiber = self;
    {
        std::lock_guard lock(st->mu);
        if (st->handlers.size() < *st->options.max_connections) return;
        w.epoch = self->epoch;
        st->slot_waiters.push_back(&w);
    }
    try {
        hub.park(detail::WaitReason{detail::WaitKind::object, "StreamServer connection limit", st.get()});
    } catch (...) {
        std::lock_guard lock(st->mu);
        st->slot_waiters.remove(&w);
        throw;
    }
    std::lock_guard lock(st->mu);
    st->slot_waiters.remove(&w);
}

void accept_loop(const std::shared_ptr<State>& st) {
    using namespace std::chrono_literals;
    auto backoff = 10ms;
    std::size_t burst = 0;
    while (!st->closed) {
        if (st->options.max_connections && handler_count(*st) >= *st->options.max_connections) {
            wait_for_slot(st);
            continue;
        }
        if (st->options.pool != nullptr && st->options.pool->full()) {
            st->options.pool->wait_available();   // gevent stops accepting while the pool is full
            continue;
        }
        if (++burst > st->options.accepts_per_turn) {
            burst = 0;
            gev::sleep(0ns);   // let the handlers of this burst run
            continue;
        }
        try {
            // Without a connection limit or a pool this loop takes every connection, so
            // io_uring may queue them for it (a multishot accept); with one, those it does
            // not take stay in the kernel's backlog, for other processes too.
            bool takes_all = !st->options.max_connections && st->options.pool == nullptr;
            auto [conn, peer] = takes_all ? accept_queued(st->listener) : st->listener.accept();
            backoff = 10ms;
            if (st->options.nodelay && (st->at.family() == AF_INET || st->at.family() == AF_INET6)) {
                try {
                    conn.set_nodelay();
                } catch (const SocketError&) {   // a peer already gone: its handler sees that
                }
            }
            spawn_handler(st, std::move(conn), peer);
        } catch (const SocketError& e) {
            int err = e.code().value();
            if (st->closed) return;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                gev::sleep(backoff);   // out of fds: wait for handlers to close some
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1000ms);
            } else if (err == EBADF && st->closed) {
                return;
            } else if (!transient_accept_error(err)) {
                std::fprintf(stderr, "gev: StreamServer %s: %s\n", st->at.to_string().c_str(), e.what());
                gev::sleep(backoff);
            }
            burst = 0;
        }
    }
}

}  // namespace

StreamServer::StreamServer(Address at, StreamHandler handler, ServerOptions options)
    : st_(std::make_shared<State>()) {
    if (options.tls != nullptr) throw SocketError(EINVAL, "StreamServer: options.tls needs a handler taking a TlsSocket");
    st_->at = at;
    st_->handler = std::move(handler);
    st_->options = options;
}

StreamServer::StreamServer(Socket listener, StreamHandler handler, ServerOptions options)
    : StreamServer(listener.local_address(), std::move(handler), options) {
    st_->listener = std::move(listener);
}

StreamServer::~StreamServer() {
    if (detail::Hub::current() == nullptr || !st_->started) return;
    // stop() waits for the acceptor and the handlers to die: a kill or Timeout that
    // arrives meanwhile must not leave a noexcept destructor (std::terminate); it is
    // raised at the owner's next wait instead.
    Shield shield;
    stop(Duration{0});
}

void StreamServer::start() {
    if (st_->started) return;
    unsigned want = st_->options.threads == 0 ? gev::hub_count() : st_->options.threads;
    st_->hubs = std::max(1u, std::min(want, gev::hub_count()));
    bool per_hub_listeners = st_->hubs > 1 && !st_->options.handoff;
    if (!st_->listener) {
        Socket s(st_->at.family(), SOCK_STREAM);
        if (st_->at.family() != AF_UNIX) s.set_reuse_address();
        if (st_->options.reuse_port || per_hub_listeners) s.set_reuse_port();
        s.bind(st_->at);
        s.listen(st_->options.backlog);
        st_->at = s.local_address();
        st_->listener = std::move(s);
    }
    st_->started = true;
    st_->closed = false;
    if (per_hub_listeners) start_children();
    st_->acceptor = gev::spawn([st = st_] { accept_loop(st); });
}

// reuse_port mode: a listener and accept loop of its own on each other hub.
void StreamServer::start_children() {
    ServerOptions child = st_->options;
    child.threads = 1;
    child.reuse_port = true;
    for (unsigned i = 0; i < st_->hubs; ++i) {
        if (i == gev::hub_index()) continue;
        st_->children.push_back(gev::spawn_on(i, [at = st_->at, h = st_->handler, child, st = st_] {
            StreamServer s(at, h, child);
            s.start();
            try {
                for (;;) gev::sleep(std::chrono::hours(24));
            } catch (const GreenletExit&) {
                s.stop(st->grace);
                throw;
            }
        }));
    }
}

void StreamServer::serve_forever() {
    start();
    while (!st_->closed) park_on(st_->stop_waiters, "StreamServer.serve_forever", st_.get());
}

void StreamServer::close() {
    if (st_->closed) return;
    st_->closed = true;
    st_->listener.close();   // wakes the acceptor with "closed by another fiber"
    if (st_->acceptor && st_->acceptor.fiber() != detail::current_fiber()) st_->acceptor.kill();
    {
        std::lock_guard lock(st_->mu);
        wake_all(st_->slot_waiters);
    }
    wake_all(st_->stop_waiters);
}

void StreamServer::stop(MaybeDuration timeout) {
    st_->grace = timeout;
    close();
    killall(st_->children);   // each stops its own listener and handlers within `timeout`
    st_->children.clear();
    std::vector<Greenlet<>> running;
    {
        std::lock_guard lock(st_->mu);
        for (auto& [id, g] : st_->handlers)
            if (g.fiber() != detail::current_fiber()) running.push_back(g);   // a handler may stop its server
    }
    if (running.empty()) return;
    joinall(running, timeout);
    killall(running);
}

bool StreamServer::started() const noexcept { return st_->started; }
bool StreamServer::closed() const noexcept { return st_->closed; }
Address StreamServer::address() const { return st_->at; }
std::size_t StreamServer::connections() const noexcept { return handler_count(*st_); }

}  // namespace gev::net
