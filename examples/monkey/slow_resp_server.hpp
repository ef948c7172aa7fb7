// examples/monkey/slow_resp_server.hpp — the "cache" for examples/monkey/cache_fetch:
// a loopback server speaking enough of Redis's protocol (RESP: PING, SET, GET, DEL)
// that hiredis can talk to it, answering every command after a fixed delay. It is a
// gev::net::StreamServer running on another hub of the same gev::run (a thread of its
// own), one fiber per connection; the keys live in a map that only that hub's fibers
// touch. Construct and stop() it from a fiber of that run; port() is the bound port.
#pragma once

#include "gev.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

class SlowRespServer {
public:
    // Starts serving 127.0.0.1:<a free port> on hub `hub`; returns once it listens.
    SlowRespServer(unsigned hub, std::chrono::milliseconds delay) : delay_(delay) {
        server_ = gev::spawn_on(hub, [this] {
            gev::net::StreamServer srv("127.0.0.1:0", [this](gev::net::Socket c, gev::net::Address) {
                session(c);
            });
            try {
                srv.start();
            } catch (...) {
                ready_.set_exception(std::current_exception());
                return;
            }
            ready_.set(srv.address().port());
            srv.serve_forever();   // until stop() kills this fiber; ~StreamServer ends the sessions
        });
        port_ = ready_.get();   // rethrows what start() threw
    }
    SlowRespServer(const SlowRespServer&) = delete;
    SlowRespServer& operator=(const SlowRespServer&) = delete;
    ~SlowRespServer() { stop(); }

    std::uint16_t port() const noexcept { return port_; }

    // Closes the listener and every open connection; returns when they are gone.
    void stop() {
        if (server_ && !server_.ready()) server_.kill();
    }

private:
    using Command = std::vector<std::string>;
    static constexpr std::size_t kMaxArgs = 64;
    static constexpr std::size_t kMaxBulk = 1 << 20;

    // One client connection: read a command, wait the delay, answer, until the client
    // closes or breaks the protocol.
    void session(gev::net::Socket& conn) {
        gev::net::Reader in(conn);
        try {
            for (;;) {
                Command cmd;
                if (!read_command(in, cmd)) return;
                gev::sleep(delay_);   // a slow cache
                conn.sendall(reply(cmd));
            }
        } catch (const gev::net::SocketError&) {   // reset, or a command cut short
        }
    }

    // A RESP array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", what hiredis
    // sends). False at end of stream or on anything else.
    static bool read_command(gev::net::Reader& in, Command& cmd) {
        std::size_t n = 0;
        if (!header(in.readline(), '*', kMaxArgs, n) || n == 0) return false;
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t len = 0;
            if (!header(in.readline(), '$', kMaxBulk, len)) return false;
            std::string arg = in.read_exactly(len + 2);
            if (arg.compare(len, 2, "\r\n") != 0) return false;
            arg.resize(len);
            cmd.push_back(std::move(arg));
        }
        return true;
    }

    // "<kind><decimal>\r\n" with the number at most `max`.
    static bool header(const std::string& line, char kind, std::size_t max, std::size_t& out) {
        if (line.size() < 4 || line[0] != kind || line.compare(line.size() - 2, 2, "\r\n") != 0) return false;
        char* end = nullptr;
        unsigned long v = std::strtoul(line.c_str() + 1, &end, 10);
        if (end != line.c_str() + line.size() - 2 || v > max) return false;
        out = v;
        return true;
    }

    static std::string bulk(const std::string& s) {
        std::string out(1, '$');   // appends: GCC 12 warns falsely on "literal" + std::string&&
        out.append(std::to_string(s.size())).append("\r\n").append(s).append("\r\n");
        return out;
    }

    std::string reply(const Command& cmd) {
        std::string name = cmd[0];
        for (char& ch : name) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
        if (name == "PING" && cmd.size() <= 2) return cmd.size() == 2 ? bulk(cmd[1]) : "+PONG\r\n";
        if (name == "SET" && cmd.size() == 3) {
            store_[cmd[1]] = cmd[2];
            return "+OK\r\n";
        }
        if (name == "GET" && cmd.size() == 2) {
            auto it = store_.find(cmd[1]);
            return it == store_.end() ? "$-1\r\n" : bulk(it->second);
        }
        if (name == "DEL" && cmd.size() >= 2) {
            std::size_t gone = 0;
            for (std::size_t i = 1; i < cmd.size(); ++i) gone += store_.erase(cmd[i]);
            return std::string(1, ':').append(std::to_string(gone)).append("\r\n");
        }
        return "-ERR unknown command or wrong number of arguments for '" + cmd[0] + "'\r\n";
    }

    std::chrono::milliseconds delay_;
    std::uint16_t port_ = 0;
    gev::AsyncResult<std::uint16_t> ready_;   // a member: set() on the other hub may still touch it
    gev::Greenlet<> server_;
    std::map<std::string, std::string> store_;   // the serving hub's fibers only
};
