// sync/errors.hpp — the named errors of the queue family and the pools (gevent.queue's
// Full and Empty, Python 3.13's ShutDown). Each is a std::system_error whose what()
// names the operation: "gev::Queue::get_nowait: the queue is empty: Resource
// temporarily unavailable". Thrown by sync/queue.hpp, sync/channel.hpp, sync/pool.hpp.
#pragma once

#include <string>
#include <system_error>

namespace gev {

// put_nowait on a full queue, put whose timeout ran out, Pool::add that found no slot.
class Full : public std::system_error {
public:
    explicit Full(const std::string& what) : std::system_error(std::make_error_code(std::errc::no_buffer_space), what) {}
};

// get_nowait or peek_nowait on an empty queue, get whose timeout ran out.
class Empty : public std::system_error {
public:
    explicit Empty(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again), what) {}
};

// A put on a queue that was shut down, or a get once a shut-down queue is drained.
class QueueShutDown : public std::system_error {
public:
    explicit QueueShutDown(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::operation_canceled), what) {}
};

}  // namespace gev
