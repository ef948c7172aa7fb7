// sync/sync.hpp — the public face of sync/: gevent.event, gevent.lock, gevent.local,
// gevent.queue and gevent.pool for fibers. Included by gev.hpp.
#pragma once

#include "sync/async_result.hpp"
#include "sync/channel.hpp"
#include "sync/condition.hpp"
#include "sync/errors.hpp"
#include "sync/event.hpp"
#include "sync/local.hpp"
#include "sync/pool.hpp"
#include "sync/queue.hpp"
#include "sync/semaphore.hpp"
