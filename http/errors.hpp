// http/errors.hpp — what gev::http throws: std::system_error subclasses naming the
// operation. RequestError carries the HTTP status the server answers with when a
// handler lets it escape (a malformed or oversized body, 400/413).
#pragma once

#include <string>
#include <system_error>

namespace gev::http {

// Misuse of a Response (a write after the handler returned, a body where the status
// allows none) or a broken connection seen by the HTTP layer.
class Error : public std::system_error {
public:
    Error(int err, const std::string& op) : std::system_error(err, std::generic_category(), op) {}
};

// The request cannot be read on: its body is malformed (400) or over a limit (413).
// Escaping a handler, it is answered with status() and the connection is closed,
// without being reported as the handler's failure.
class RequestError : public Error {
public:
    RequestError(int status, const std::string& op) : Error(EBADMSG, op), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

}  // namespace gev::http
