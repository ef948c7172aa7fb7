// proc/errors.hpp — the exceptions of gev::subprocess, with Python's subprocess names.
// All derive from std::system_error (SubprocessError), so `catch (const std::exception&)`
// sees them; a failed start (no such program) is a plain std::system_error with the
// errno posix_spawn reported, like Python's FileNotFoundError.
#pragma once

#include "runtime/clock.hpp"

#include <string>
#include <system_error>
#include <vector>

namespace gev::subprocess {

// "exit status 2" for 2, "killed by signal 9 (Killed)" for -9: a returncode as an error.
const std::error_category& returncode_category() noexcept;

// The base of TimeoutExpired and CalledProcessError; what() is exactly the message.
class SubprocessError : public std::system_error {
public:
    SubprocessError(std::error_code code, std::string message)
        : std::system_error(code, message), message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

// A wait, communicate, run or check_output outlived its own `timeout` argument
// (std::errc::timed_out). The child is still running (see README "Processes");
// `output` and `stderr` hold what communicate had read so far, and calling
// communicate again resumes where it stopped.
class TimeoutExpired : public SubprocessError {
public:
    TimeoutExpired(std::vector<std::string> cmd, Duration timeout, std::string output = {}, std::string err = {});
    std::vector<std::string> cmd;
    Duration timeout;
    std::string output;
    std::string stderr;   // glibc's `#define stderr stderr` leaves this name usable
};

// check_call, check_output or run(.check = true) saw a non-zero returncode (negative:
// killed by that signal). code() is in returncode_category().
class CalledProcessError : public SubprocessError {
public:
    CalledProcessError(int returncode, std::vector<std::string> cmd, std::string output = {}, std::string err = {});
    int returncode;
    std::vector<std::string> cmd;
    std::string output;
    std::string stderr;
};

// "sleep 5": the arguments joined by spaces, for messages.
std::string command_line(const std::vector<std::string>& args);

}  // namespace gev::subprocess
