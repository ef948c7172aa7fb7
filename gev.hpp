// gev.hpp — gevent's programming model in C++20: the public API and nothing else.
//
//   #include "gev.hpp"
//   int main() {
//       return gev::run([] {
//           auto a = gev::spawn([] { gev::sleep(std::chrono::seconds(1)); return 1; });
//           return a.get();
//       });
//   }
#pragma once

#include "file/file.hpp"
#include "net/net.hpp"
#include "proc/subprocess.hpp"
#include "runtime/clock.hpp"
#include "runtime/debug.hpp"
#include "runtime/errors.hpp"
#include "runtime/fork.hpp"
#include "runtime/greenlet.hpp"
#include "runtime/joinall.hpp"
#include "runtime/keepalive.hpp"
#include "runtime/raw_greenlet.hpp"
#include "runtime/run.hpp"
#include "runtime/shield.hpp"
#include "runtime/signal.hpp"
#include "runtime/sleep.hpp"
#include "runtime/stack_pool.hpp"
#include "runtime/stats.hpp"
#include "runtime/threadpool.hpp"
#include "runtime/timeout.hpp"
#include "sync/sync.hpp"
