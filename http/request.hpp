// http/request.hpp — what a handler is given: the request line, the headers (views into
// the connection's read buffer, valid while the handler runs), and the body as a stream
// read on demand, so `Expect: 100-continue` is answered only when the handler reads.
// A Request belongs to its connection's fiber; do not keep it past the handler.
#pragma once

#include "http/errors.hpp"
#include "net/address.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gev::http {

namespace detail {
class Conn;
}

// ASCII case-insensitive equality, as header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

struct Header {
    std::string_view name;
    std::string_view value;
};

// Header lines in arrival order; repeated names are kept, each as its own entry.
class Headers {
public:
    // The first value of `name` (any case).
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    // Every value of `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    std::size_t count(std::string_view name) const noexcept;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    auto begin() const noexcept { return v_.begin(); }
    auto end() const noexcept { return v_.end(); }
    std::size_t size() const noexcept { return v_.size(); }
    bool empty() const noexcept { return v_.empty(); }

    void add(std::string_view name, std::string_view value) { v_.push_back({name, value}); }
    void clear() noexcept { v_.clear(); }
    void release() noexcept { std::vector<Header>().swap(v_); }

private:
    std::vector<Header> v_;
};

// %XX decoding (and '+' as a space when `plus_is_space`, as in a query string);
// nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);
// The decoded value of the first `name=` parameter of a query string.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

class Request {
public:
    std::string_view method() const noexcept { return method_; }
    // The request target as sent ("/a%20b?x=1"), its path ("/a%20b", still encoded)
    // and query ("x=1", without the '?'; empty when there is none).
    std::string_view target() const noexcept { return target_; }
    std::string_view path() const noexcept { return path_; }
    std::string_view query() const noexcept { return query_; }
    // "HTTP/1.0" or "HTTP/1.1"; minor_version() is 0 or 1.
    std::string_view version() const noexcept { return minor_ == 0 ? "HTTP/1.0" : "HTTP/1.1"; }
    int minor_version() const noexcept { return minor_; }
    const Headers& headers() const noexcept { return headers_; }
    std::optional<std::string_view> header(std::string_view name) const noexcept { return headers_.get(name); }
    const net::Address& remote_address() const noexcept { return *remote_; }
    // The declared body length; nullopt for a chunked body.
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    bool chunked() const noexcept { return chunked_; }

    // Reads some body bytes into buf, parking until at least one arrives; 0 at the end
    // of the body. The first read answers `Expect: 100-continue`. Throws RequestError
    // (400 malformed chunk, 413 over the server's body limit) and net::SocketError.
    std::size_t read(std::span<char> buf);
    // The whole (rest of the) body; throws RequestError(413) past `limit` bytes.
    std::string read_all(std::size_t limit = std::numeric_limits<std::size_t>::max());
    // Whether the body has been read to its end.
    bool body_done() const noexcept;
    // The trailer fields after a chunked body, once read to its end.
    const Headers& trailers() const noexcept { return trailers_; }

private:
    friend class detail::Conn;
    detail::Conn* conn_ = nullptr;
    std::string_view method_, target_, path_, query_;
    int minor_ = 1;
    bool chunked_ = false;
    std::optional<std::uint64_t> content_length_;
    Headers headers_, trailers_;
    const net::Address* remote_ = nullptr;
};

}  // namespace gev::http
