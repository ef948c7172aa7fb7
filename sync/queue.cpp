// sync/queue.cpp — the out-of-line errors of the queue family, so the templates in
// queue_core.hpp and channel.hpp stay small: each message names the type and the
// operation ("gev::Queue::put_nowait: the queue is full").
#include "sync/queue_core.hpp"

#include "runtime/errors.hpp"

#include <string>

namespace gev::detail {
namespace {
std::string op_name(const char* kind, const char* op) { return std::string("gev::") + kind + "::" + op; }
}  // namespace

void throw_full(const char* kind, const char* op) {
    throw Full(op_name(kind, op) + ": the " + kind + " is full");
}

void throw_empty(const char* kind, const char* op) {
    throw Empty(op_name(kind, op) + ": the " + kind + " is empty");
}

void throw_shut_down(const char* kind, const char* op) {
    throw QueueShutDown(op_name(kind, op) + ": the " + kind + " is shut down");
}

void throw_too_many_task_done(const char* kind) {
    throw_usage(std::errc::invalid_argument, op_name(kind, "task_done") + ": called more times than items were put");
}

}  // namespace gev::detail
