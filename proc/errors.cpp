// proc/errors.cpp — messages for gev::subprocess's exceptions, in Python's words where
// Python has them ("Command 'false' returned non-zero exit status 1.").
#include "proc/errors.hpp"

#include <string.h>

#include <cstdio>

namespace gev::subprocess {
namespace {

class ReturncodeCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "gev.subprocess.returncode"; }
    std::string message(int rc) const override {
        if (rc >= 0) return "exit status " + std::to_string(rc);
        const char* s = ::sigdescr_np(-rc);
        return "killed by signal " + std::to_string(-rc) + (s != nullptr ? std::string(" (") + s + ")" : "");
    }
};

std::string seconds(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", std::chrono::duration<double>(d).count());
    return buf;
}

}  // namespace

const std::error_category& returncode_category() noexcept {
    static const ReturncodeCategory c;
    return c;
}

std::string command_line(const std::vector<std::string>& args) {
    std::string s;
    for (const std::string& a : args) {
        if (!s.empty()) s += ' ';
        s += a;
    }
    return s;
}

TimeoutExpired::TimeoutExpired(std::vector<std::string> c, Duration t, std::string out, std::string err)
    : SubprocessError(std::make_error_code(std::errc::timed_out),
                      "Command '" + command_line(c) + "' timed out after " + seconds(t) + " seconds"),
      cmd(std::move(c)), timeout(t), output(std::move(out)), stderr(std::move(err)) {}

CalledProcessError::CalledProcessError(int rc, std::vector<std::string> c, std::string out, std::string err)
    : SubprocessError(std::error_code(rc, returncode_category()),
                      "Command '" + command_line(c) + "' " +
                          (rc < 0 ? "died: " + returncode_category().message(rc)
                                  : "returned non-zero exit status " + std::to_string(rc)) + "."),
      returncode(rc), cmd(std::move(c)), output(std::move(out)), stderr(std::move(err)) {}

}  // namespace gev::subprocess
