// examples/select_server.cpp — the seed's select() server (S1-9, Alex Li): ONE fiber,
// non-blocking sockets, gev::net::select over them, and a queue of replies per
// connection that is drained when the socket is writable; each reply is upper-cased.
// This is what the poller does under the hood, written out by hand; compare
// echo_server.cpp, where one fiber per connection needs none of this bookkeeping.
// Prints what the seed prints (the Chinese lines: "received data from [ip]:" and
// "client disconnected"). Unlike the seed it closes a disconnected socket, survives a
// socket that is both read-closed and writable in one round, and stops by itself.
// Run: build/examples/select_server [--host localhost] [--port 10000] [--seconds S] [--clients N]
//      then build/examples/select_client [--host localhost] [--port 10000]
#include "gev.hpp"
#include "pyrepr.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

using gev::net::Address;
using gev::net::Socket;

namespace {

using Clock = std::chrono::steady_clock;

// The seed's setblocking(0), as in Python: a call that would have to wait throws
// SocketTimeout at once instead of parking (after select said ready, none has to).
constexpr gev::Duration nonblocking{0};

std::string peer_ip(const Socket& s) {
    try {
        return s.peer_address().host();
    } catch (const gev::net::SocketError&) {   // reset by the peer
        return "?";
    }
}

// Python's repr() of a socket object.
std::string py_socket(const Socket& s) {
    std::string out = "<socket.socket fd=" + std::to_string(s.fileno()) + ", family=" +
                      std::to_string(AF_INET) + ", type=" + std::to_string(SOCK_STREAM) + ", proto=0";
    try {
        out += ", laddr=" + pyrepr::tuple(s.local_address());
        out += ", raddr=" + pyrepr::tuple(s.peer_address());
    } catch (const gev::net::SocketError&) {   // not connected any more: Python leaves it out too
    }
    return out + ">";
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

void remove(std::vector<int>& v, int fd) { v.erase(std::remove(v.begin(), v.end(), fd), v.end()); }
bool contains(const std::vector<int>& v, int fd) { return std::find(v.begin(), v.end(), fd) != v.end(); }

struct Options {
    std::string host = "localhost";
    int port = 10000;
    double seconds = 0;   // 0: no time limit
    int clients = 0;      // stop once this many clients have disconnected; 0: no limit
};

struct Conn {
    Socket sock;
    std::queue<std::string> message_queue;   // replies not yet sent
};

// What the loop watches: the listener and each client's fd, with its pending replies.
struct Watched {
    Socket server;
    std::vector<int> inputs;    // the listening socket is watched too
    std::vector<int> outputs;
    std::map<int, Conn> message_queues;
    int gone = 0;
};

void on_readable(Watched& w, int s) {
    if (s == w.server.fileno()) {   // a new connection
        try {
            auto [conn, client_addr] = w.server.accept();
            std::printf("new connection from %s\n", pyrepr::tuple(client_addr).c_str());
            conn.set_timeout(nonblocking);
            w.inputs.push_back(conn.fileno());   // recv later, when select says data came
            w.message_queues[conn.fileno()].sock = std::move(conn);
        } catch (const gev::net::SocketTimeout&) {   // it was aborted before we got to it
        }
        return;
    }
    Conn& c = w.message_queues.at(s);
    std::string data;
    try {
        data = c.sock.recv(1024);
    } catch (const gev::net::SocketError& e) {   // a reset: handled as a disconnect
        std::printf("%s\n", e.what());
    }
    if (!data.empty()) {
        std::printf("收到来自[%s]的数据: %s\n", peer_ip(c.sock).c_str(), pyrepr::bytes(data).c_str());
        c.message_queue.push(data);   // reply once writable, so others are not held up
        if (!contains(w.outputs, s)) w.outputs.push_back(s);
    } else {   // an empty read: the client disconnected
        std::printf("客户端断开了 %s\n", py_socket(c.sock).c_str());
        remove(w.outputs, s);
        remove(w.inputs, s);
        w.message_queues.erase(s);   // closes it (the seed left that to the garbage collector)
        ++w.gone;
    }
}

void on_writable(Watched& w, int s) {
    auto it = w.message_queues.find(s);
    if (it == w.message_queues.end()) return;   // disconnected in this same round
    Conn& c = it->second;
    std::string peer = peer_ip(c.sock);
    if (c.message_queue.empty()) {
        std::printf("client [%s] queue is empty..\n", peer.c_str());
        remove(w.outputs, s);
        return;
    }
    std::string& next_msg = c.message_queue.front();
    std::printf("sending msg to [%s] %s\n", peer.c_str(), pyrepr::bytes(next_msg).c_str());
    try {
        std::size_t n = c.sock.send(upper(next_msg));
        if (n == next_msg.size()) c.message_queue.pop();
        else next_msg.erase(0, n);   // the rest goes when it is writable again
    } catch (const gev::net::SocketError& e) {   // reset: the next recv sees it and cleans up
        std::printf("%s\n", e.what());
        remove(w.outputs, s);
    }
}

void serve(const Options& o) {
    Watched w{Socket(AF_INET), {}, {}, {}, 0};
    w.server.set_timeout(nonblocking);
    w.server.set_reuse_address();
    Address server_addr = gev::net::resolve(o.host, static_cast<std::uint16_t>(o.port), AF_INET).at(0);
    std::printf("starting up on %s port %d\n", o.host.c_str(), o.port);
    w.server.bind(server_addr);
    w.server.listen(5);
    w.inputs.push_back(w.server.fileno());
    auto stop_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));

    while (o.clients <= 0 || w.gone < o.clients) {
        gev::MaybeDuration left = gev::forever;
        if (o.seconds > 0) {
            left = std::chrono::duration_cast<gev::Duration>(stop_at - Clock::now());
            if (left->count() <= 0) break;
        }
        std::printf("waiting for next event...\n");
        std::fflush(stdout);
        // The seed also passes `inputs` as the exceptional list; on Linux that list only
        // reports out-of-band data, and gev::net::select cannot yet watch one fd twice.
        auto [readable, writeable, exceptional] = gev::net::select(w.inputs, w.outputs, {}, left);
        for (int s : readable) on_readable(w, s);
        for (int s : writeable) on_writable(w, s);
    }
    std::fflush(stdout);
    std::fprintf(stderr, "select_server: stopping after %d clients\n", w.gone);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--host")) o.host = argv[i + 1];
        else if (!std::strcmp(argv[i], "--port")) o.port = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds")) o.seconds = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--clients")) o.clients = std::atoi(argv[i + 1]);
    }
    return gev::run([&] {
        try {
            serve(o);
            return 0;
        } catch (const gev::net::SocketError& e) {   // the port is taken, an unknown host
            std::fflush(stdout);
            std::fprintf(stderr, "select_server: %s\n", e.what());
            return 1;
        }
    });
}
