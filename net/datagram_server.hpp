// net/datagram_server.hpp — gevent's DatagramServer: one fiber receives datagrams and
// spawns the handler for each (handler(data, sender, server); reply with sendto).
#pragma once

#include "net/socket.hpp"
#include "runtime/greenlet.hpp"

#include <functional>
#include <memory>
#include <string>

namespace gev::net {

class DatagramServer;
using DatagramHandler = std::function<void(std::string data, Address from, DatagramServer& server)>;

class DatagramServer {
public:
    DatagramServer(Address at, DatagramHandler handler, std::size_t max_datagram = 65536);
    DatagramServer(const DatagramServer&) = delete;
    DatagramServer& operator=(const DatagramServer&) = delete;
    ~DatagramServer();

    void start();           // binds and spawns the receiving fiber
    void serve_forever();   // start(), then park until stop()
    void stop();            // stops receiving; handlers already spawned go on
    std::size_t sendto(std::string_view data, const Address& to) { return socket_.sendto(data, to); }
    Address address() const;

private:
    Address at_;
    DatagramHandler handler_;
    std::size_t max_;
    Socket socket_;
    Greenlet<> receiver_;
    bool stopped_ = false;
};

}  // namespace gev::net
