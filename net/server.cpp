// net/server.cpp — the accept loop and handler bookkeeping of StreamServer.
#include "net/server.hpp"

#include "runtime/hub.hpp"
#include "runtime/joinall.hpp"
#include "runtime/sleep.hpp"

#include <cerrno>
#include <cstdio>
#include <unordered_map>

namespace gev::net {

struct StreamServer::State {
    Address at;
    StreamHandler handler;
    ServerOptions options;
    Socket listener;
    Greenlet<> acceptor;
    std::unordered_map<std::uint64_t, Greenlet<>> handlers;
    detail::WaitList slot_waiters;   // the acceptor, parked at the connection limit
    detail::WaitList stop_waiters;   // serve_forever
    bool started = false;
    bool closed = false;
};

namespace {

using State = StreamServer::State;

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

void spawn_handler(const std::shared_ptr<State>& st, Socket conn, Address peer) {
    auto g = gev::spawn([st](Socket c, Address a) {
        struct Done {
            State& s;
            ~Done() {
                s.handlers.erase(detail::current_fiber()->id);
                wake_all(s.slot_waiters);
            }
        } done{*st};
        st->handler(std::move(c), a);
    }, std::move(conn), peer);
    st->handlers.emplace(g.id(), g);
}

void accept_loop(const std::shared_ptr<State>& st) {
    using namespace std::chrono_literals;
    auto backoff = 10ms;
    std::size_t burst = 0;
    while (!st->closed) {
        if (st->options.max_connections && st->handlers.size() >= *st->options.max_connections) {
            park_on(st->slot_waiters, "StreamServer connection limit", st.get());
            continue;
        }
        if (++burst > st->options.accepts_per_turn) {
            burst = 0;
            gev::sleep(0ns);   // let the handlers of this burst run
            continue;
        }
        try {
            auto [conn, peer] = st->listener.accept();
            backoff = 10ms;
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
    st_->at = at;
    st_->handler = std::move(handler);
    st_->options = options;
}

StreamServer::StreamServer(Socket listener, StreamHandler handler, ServerOptions options)
    : StreamServer(listener.local_address(), std::move(handler), options) {
    st_->listener = std::move(listener);
}

StreamServer::~StreamServer() {
    if (detail::Hub::current() != nullptr && st_->started) stop(Duration{0});
}

void StreamServer::start() {
    if (st_->started) return;
    if (!st_->listener) {
        Socket s(st_->at.family(), SOCK_STREAM);
        if (st_->at.family() != AF_UNIX) s.set_reuse_address();
        if (st_->options.reuse_port) s.set_reuse_port();
        s.bind(st_->at);
        s.listen(st_->options.backlog);
        st_->at = s.local_address();
        st_->listener = std::move(s);
    }
    st_->started = true;
    st_->closed = false;
    st_->acceptor = gev::spawn([st = st_] { accept_loop(st); });
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
    wake_all(st_->slot_waiters);
    wake_all(st_->stop_waiters);
}

void StreamServer::stop(MaybeDuration timeout) {
    close();
    std::vector<Greenlet<>> running;
    for (auto& [id, g] : st_->handlers)
        if (g.fiber() != detail::current_fiber()) running.push_back(g);   // a handler may stop its server
    if (running.empty()) return;
    joinall(running, timeout);
    killall(running);
}

bool StreamServer::started() const noexcept { return st_->started; }
bool StreamServer::closed() const noexcept { return st_->closed; }
Address StreamServer::address() const { return st_->at; }
std::size_t StreamServer::connections() const noexcept { return st_->handlers.size(); }

}  // namespace gev::net
