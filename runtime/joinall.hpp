// runtime/joinall.hpp — gevent.joinall and gevent.killall over many fibers at once.
#pragma once

#include "runtime/greenlet.hpp"

#include <cstddef>
#include <optional>
#include <vector>

namespace gev {

// Waits until every fiber (or `count` of them) has ended, or the timeout. Returns
// the ones that ended: those already dead first, in argument order, then the rest
// in the order they ended. With raise_error, the first failure is rethrown as soon
// as it is seen. Never throws a fiber's exception otherwise.
std::vector<Greenlet<>> joinall(const std::vector<Greenlet<>>& greenlets, MaybeDuration timeout = forever,
                                bool raise_error = false, std::optional<std::size_t> count = std::nullopt);

template <class T>
    requires(!std::is_void_v<T>)
std::vector<Greenlet<>> joinall(const std::vector<Greenlet<T>>& greenlets, MaybeDuration timeout = forever,
                                bool raise_error = false, std::optional<std::size_t> count = std::nullopt) {
    return joinall(std::vector<Greenlet<>>(greenlets.begin(), greenlets.end()), timeout, raise_error, count);
}

// Kills them all; with block, waits (up to the timeout, shared) for all to end.
void killall(const std::vector<Greenlet<>>& greenlets, const KillOptions& options = {});

template <class T>
    requires(!std::is_void_v<T>)
void killall(const std::vector<Greenlet<T>>& greenlets, const KillOptions& options = {}) {
    killall(std::vector<Greenlet<>>(greenlets.begin(), greenlets.end()), options);
}

}  // namespace gev
