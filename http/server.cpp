// http/server.cpp — the serve loop of one connection (read a request, call the
// handler, finish the response, decide keep-alive) and the Server around
// net::StreamServer: stop() closes idle keep-alive connections at once, lets requests
// in flight finish, then kills what remains.
#include "http/conn.hpp"

#include "runtime/errors.hpp"
#include "runtime/timeout.hpp"

#include <exception>

namespace gev::http {

namespace detail {

void Conn::serve() {
    while (wait_request() && read_head())
        if (handle_one() == Next::close) break;
    try {
        flush();
    } catch (const net::SocketError&) {   // the client left first
        return;
    }
    linger_close();
}

Conn::Next Conn::handle_one() {
    st_.counters.requests.fetch_add(1, std::memory_order_relaxed);
    Response res;
    res.conn_ = this;
    res_headers_.len = 0;
    enum { ok, timed_out, stalled, request_error, reset, failed } outcome = ok;
    int status = 0;
    std::exception_ptr error;
    Next next = Next::close;
    std::size_t mark = out_.len;
    std::uint64_t flushes = flushes_;
    {
        std::optional<Timeout> limit;
        if (st_.options.request_timeout) limit.emplace(st_.options.request_timeout);
        try {
            st_.handler(req_, res);
            next = finish_response(res);
        } catch (const GreenletExit&) {
            throw;
        } catch (const Timeout& t) {
            if (!limit || !t.is(*limit)) throw;
            outcome = timed_out;
        } catch (const RequestError& e) {
            outcome = request_error;
            status = e.status();
        } catch (const net::SocketTimeout&) {
            outcome = stalled;
        } catch (const net::SocketError&) {
            outcome = reset;
        } catch (...) {
            outcome = failed;
            error = std::current_exception();
        }
    }
    res.finished_ = true;
    if (outcome == ok) {
        if (st_.options.access_log) st_.options.access_log(AccessRecord{req_, res.status_, res.body_bytes_});
        if (next == Next::close) return next;
        if (drain_body() == Next::close) return Next::close;
        return keep_alive_ && !upgrade_ && !st_.stopping.load(std::memory_order_relaxed) ? Next::keep : Next::close;
    }
    out_.len = flushes_ == flushes ? mark : 0;   // a half-built answer is dropped, earlier ones kept
    auto& c = st_.counters;
    switch (outcome) {
        case timed_out: c.timeouts.fetch_add(1, std::memory_order_relaxed); status = 503; break;
        case stalled: c.timeouts.fetch_add(1, std::memory_order_relaxed); status = 408; break;
        case request_error: (status == 413 ? c.too_large : c.bad_requests).fetch_add(1, std::memory_order_relaxed); break;
        case reset: c.resets.fetch_add(1, std::memory_order_relaxed); break;
        default: c.handler_errors.fetch_add(1, std::memory_order_relaxed); status = 500; break;
    }
    if (outcome != reset && !res.headers_sent_) send_error(status);   // else: cut short by the close
    if (error) std::rethrow_exception(error);   // reported once, like any fiber's failure
    return Next::close;
}

}  // namespace detail

Server::Server(net::Address at, Handler handler, Options options) : st_(std::make_shared<State>()) {
    st_->options = std::move(options);
    st_->handler = std::move(handler);
    if (st_->options.net.tls != nullptr) {   // HTTPS: StreamServer shakes hands first
        net_ = std::make_unique<net::StreamServer>(
            at,
            net::TlsHandler([st = st_](net::TlsSocket sock, net::Address peer) {
                detail::Conn c(*st, std::move(sock), peer);
                c.serve();
            }),
            st_->options.net);
        return;
    }
    net_ = std::make_unique<net::StreamServer>(
        at,
        [st = st_](net::Socket sock, net::Address peer) {
            detail::Conn c(*st, std::move(sock), peer);
            c.serve();
        },
        st_->options.net);
}

Server::~Server() {
    if (st_->stopping.exchange(true)) st_->stopped.wait();   // never two stops at once
}

void Server::start() { net_->start(); }

// StreamServer's serve_forever returns as soon as accepting stops; this one also waits
// for a stop() under way to finish, so the caller does not destroy the server (and kill
// its requests) in the middle of the grace period.
void Server::serve_forever() {
    net_->serve_forever();
    if (st_->stopping.load()) st_->stopped.wait();
}

void Server::close() { net_->close(); }

void Server::stop(MaybeDuration timeout) {
    if (st_->stopping.exchange(true)) {   // a stop is under way (a second SIGTERM): wait for it
        st_->stopped.wait();
        return;
    }
    net_->close();
    {
        std::lock_guard lock(st_->mu);
        for (detail::Conn* c = st_->conns; c != nullptr; c = c->next_in_server()) c->close_if_idle();
    }
    net_->stop(timeout);
    st_->stopped.set();
}

void serve_connection(net::Socket sock, net::Address peer, Handler handler, Options options) {
    Server::State st;
    st.options = std::move(options);
    st.handler = std::move(handler);
    detail::Conn c(st, std::move(sock), peer);
    c.serve();
}

net::Address Server::address() const { return net_->address(); }

const Options& Server::options() const noexcept { return st_->options; }

Stats Server::stats() const noexcept {
    const auto& c = st_->counters;
    auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    return Stats{get(c.requests),  get(c.bytes_in),       get(c.bytes_out), get(c.connections),
                 get(c.open),      get(c.bad_requests),   get(c.too_large), get(c.timeouts),
                 get(c.handler_errors), get(c.resets)};
}

}  // namespace gev::http
