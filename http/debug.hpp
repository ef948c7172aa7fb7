// http/debug.hpp — a debug page for a running server, Go's expvar and pprof goroutine
// page in gev's terms: the fiber dump (the SIGQUIT text), gev::stats() as JSON and the
// monkey-patch state. Nothing serves it unless the program mounts it; it shows the
// process's insides, so mount it only where its clients may see them.
#pragma once

#include "http/server.hpp"

#include <string>
#include <string_view>

namespace gev::http {

// A handler for the paths under `prefix` (default "/debug"; a trailing '/' is ignored):
//   <prefix>/        an index of the pages below (text/html)
//   <prefix>/fibers  gev::format_run_info(): every fiber of every hub (text/plain)
//   <prefix>/stats   gev::stats_json(gev::stats()): one object per hub (application/json)
//   <prefix>/monkey  whether libgev_monkey is in the process, its hooks are reached,
//                    and which parts are patched (text/plain)
// GET and HEAD only (405 otherwise); any other path gets 404, so a program mounts it
// with `if (is_debug_path(req.path(), "/debug")) return debug(req, res);`.
Handler debug_handler(std::string prefix = "/debug");

// Whether `path` is `prefix` itself or lies under it (the test a program mounts with).
bool is_debug_path(std::string_view path, std::string_view prefix = "/debug") noexcept;

// The text of <prefix>/monkey: "monkey: not loaded ..." when libgev_monkey is not part
// of this process, else its state, one `name: value` line each.
std::string monkey_state();

}  // namespace gev::http
