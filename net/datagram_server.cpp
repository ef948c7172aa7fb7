// net/datagram_server.cpp — the receive loop of DatagramServer.
#include "net/datagram_server.hpp"

#include "runtime/hub.hpp"

namespace gev::net {

DatagramServer::DatagramServer(Address at, DatagramHandler handler, std::size_t max_datagram)
    : at_(at), handler_(std::move(handler)), max_(max_datagram) {}

DatagramServer::~DatagramServer() {
    if (detail::Hub::current() != nullptr) stop();
}

void DatagramServer::start() {
    if (socket_) return;
    socket_ = Socket(at_.family(), SOCK_DGRAM);
    socket_.bind(at_);
    at_ = socket_.local_address();
    stopped_ = false;
    receiver_ = gev::spawn([this] {
        std::string buf(max_, '\0');
        while (!stopped_) {
            auto [n, from] = socket_.recvfrom(std::as_writable_bytes(std::span(buf)));
            gev::spawn(handler_, buf.substr(0, n), from, std::ref(*this));
        }
    });
}

void DatagramServer::serve_forever() {
    start();
    receiver_.join();
}

void DatagramServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (receiver_ && receiver_.fiber() != detail::current_fiber()) receiver_.kill();
    socket_.close();
}

Address DatagramServer::address() const { return at_; }

}  // namespace gev::net
