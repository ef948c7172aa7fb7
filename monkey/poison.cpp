// monkey/poison.cpp — poisoning a connection whose hooked call a kill or Timeout
// interrupted (monkey/poison.hpp), and the switch that turns it off. Called from
// monkey/wait.cpp's catch-and-rethrow around each park.
#include "monkey/poison.hpp"

#include "monkey/monkey.hpp"
#include "monkey/original.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace gev::monkey {

namespace detail {

constinit std::atomic<bool> g_poison{true};

namespace {

int socket_option(int fd, int name) noexcept {
    int v = -1;
    socklen_t len = sizeof v;
    return ::getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 ? v : -1;
}

// What a shut-down Unix stream already holds: the peer cannot add more (EPIPE), so
// this ends; bounded all the same.
void drop_received(int fd) noexcept {
    char buf[4096];
    for (int i = 0; i < 1024; ++i)
        if (original::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return;
}

}  // namespace

void poison_interrupted(int fd) noexcept {
    if (fd < 0 || !g_poison.load(std::memory_order_relaxed)) return;
    int saved = errno;
    int type = socket_option(fd, SO_TYPE);   // -1: not a socket, or closed meanwhile
    if ((type == SOCK_STREAM || type == SOCK_SEQPACKET) && socket_option(fd, SO_ACCEPTCONN) == 0) {
        int domain = socket_option(fd, SO_DOMAIN);
        sockaddr unspec{};
        unspec.sa_family = AF_UNSPEC;
        bool aborted = type == SOCK_STREAM && (domain == AF_INET || domain == AF_INET6) &&
                       original::connect(fd, &unspec, sizeof unspec) == 0;
        if (!aborted) {
            ::shutdown(fd, SHUT_RDWR);
            drop_received(fd);
        }
    }
    errno = saved;
}

}  // namespace detail

void set_poison_on_interrupt(bool on) noexcept { detail::g_poison.store(on, std::memory_order_relaxed); }

bool poison_on_interrupt() noexcept { return detail::g_poison.load(std::memory_order_relaxed); }

}  // namespace gev::monkey
