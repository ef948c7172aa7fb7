// proc/run.cpp — the helpers are communicate plus Python's cleanup rule: whatever
// ends them early kills the child first (it is reaped by the reaper thread once the
// Popen goes).
#include "proc/run.hpp"


namespace gev::subprocess {
namespace {

// communicate with the child killed on the way out by any exception, gev's own
// (GreenletExit, Timeout) included.
std::pair<std::string, std::string> communicate_or_kill(Popen& p, std::string_view input, MaybeDuration timeout) {
    try {
        return p.communicate(input, timeout);
    } catch (...) {
        p.kill();
        throw;
    }
}

}  // namespace

void CompletedProcess::check_returncode() const {
    if (returncode != 0) throw CalledProcessError(returncode, args, stdout, stderr);
}

CompletedProcess run(std::vector<std::string> args, const RunOptions& o) {
    PopenOptions po{o.stdin, o.stdout, o.stderr, o.close_fds, o.cwd, o.env};
    if (o.input) po.stdin = PIPE;
    if (o.capture_output) po.stdout = po.stderr = PIPE;
    Popen p(std::move(args), po);
    auto [out, err] = communicate_or_kill(p, o.input.value_or(std::string{}), o.timeout);
    CompletedProcess done{p.args(), *p.returncode(), std::move(out), std::move(err)};
    if (o.check) done.check_returncode();
    return done;
}

int call(std::vector<std::string> args, MaybeDuration timeout, const PopenOptions& options) {
    Popen p(std::move(args), options);
    communicate_or_kill(p, {}, timeout);
    return *p.returncode();
}

void check_call(std::vector<std::string> args, MaybeDuration timeout, const PopenOptions& options) {
    std::vector<std::string> cmd = args;
    if (int rc = call(std::move(args), timeout, options); rc != 0) throw CalledProcessError(rc, std::move(cmd));
}

std::string check_output(std::vector<std::string> args, MaybeDuration timeout, PopenOptions options) {
    options.stdout = PIPE;
    Popen p(std::move(args), options);
    auto [out, err] = communicate_or_kill(p, {}, timeout);
    if (*p.returncode() != 0) throw CalledProcessError(*p.returncode(), p.args(), std::move(out), std::move(err));
    return std::move(out);
}

}  // namespace gev::subprocess
