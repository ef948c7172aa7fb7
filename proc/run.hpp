// proc/run.hpp — Python's subprocess.run, call, check_call and check_output over Popen.
// Unlike a bare Popen, these kill the child when they end by an exception
// (TimeoutExpired, a kill of the calling fiber, a gev::Timeout), as Python's run does;
// the killed child is reaped by the reaper thread (reaper.hpp).
#pragma once

#include "proc/popen.hpp"

namespace gev::subprocess {

struct CompletedProcess {
    std::vector<std::string> args;
    int returncode = 0;
    std::string stdout;   // "" unless stdout was a PIPE (capture_output)
    std::string stderr;
    // Throws CalledProcessError if returncode is not 0.
    void check_returncode() const;
};

// run()'s keyword arguments: Popen's, then run's own, in Python's order.
struct RunOptions {
    Redirect stdin{};
    Redirect stdout{};
    Redirect stderr{};
    bool close_fds = true;
    std::string cwd{};
    std::optional<std::map<std::string, std::string>> env{};
    std::optional<std::string> input{};   // set: stdin is a PIPE fed with it
    bool capture_output = false;          // stdout and stderr are PIPEs
    MaybeDuration timeout = forever;      // the whole run; TimeoutExpired past it
    bool check = false;                   // CalledProcessError on a non-zero returncode
};

// Runs args to completion and returns what it did. Throws TimeoutExpired,
// CalledProcessError (with check), std::system_error when it cannot start.
CompletedProcess run(std::vector<std::string> args, const RunOptions& options = {});
// Returns the returncode.
int call(std::vector<std::string> args, MaybeDuration timeout = forever, const PopenOptions& options = {});
// Throws CalledProcessError on a non-zero returncode.
void check_call(std::vector<std::string> args, MaybeDuration timeout = forever, const PopenOptions& options = {});
// Returns what the child wrote to stdout (options.stdout is ignored: a PIPE); throws
// CalledProcessError holding that output (and stderr, if a PIPE) on a non-zero returncode.
std::string check_output(std::vector<std::string> args, MaybeDuration timeout = forever,
                         PopenOptions options = {});

}  // namespace gev::subprocess
