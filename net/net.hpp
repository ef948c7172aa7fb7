// net/net.hpp — gev::net in one include: sockets, addresses, the buffered reader,
// select/poll, StreamServer and DatagramServer, TLS.
#pragma once

#include "net/address.hpp"
#include "net/datagram_server.hpp"
#include "net/errors.hpp"
#include "net/reader.hpp"
#include "net/select.hpp"
#include "net/server.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
