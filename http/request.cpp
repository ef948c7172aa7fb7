// http/request.cpp — header lookup, percent-decoding, and the Request's body stream
// (which the connection reads on demand).
#include "http/request.hpp"

#include "http/conn.hpp"

#include <algorithm>

namespace gev::http {

namespace {
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
int hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
    for (const Header& h : v_)
        if (iequals(h.name, name)) return h.value;
    return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const Header& h : v_)
        if (iequals(h.name, name)) out.push_back(h.value);
    return out;
}

std::size_t Headers::count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const Header& h : v_) n += iequals(h.name, name);
    return n;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(plus_is_space && c == '+' ? ' ' : c);
        }
    }
    return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        std::size_t eq = pair.find('=');
        std::optional<std::string> key = percent_decode(pair.substr(0, eq), true);
        if (!key || *key != name) continue;
        return percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    }
    return std::nullopt;
}

std::size_t Request::read(std::span<char> buf) { return conn_->read_body(buf); }

bool Request::body_done() const noexcept { return conn_->body_done(); }

std::string Request::read_all(std::size_t limit) {
    std::string out;
    std::size_t want = content_length_ ? static_cast<std::size_t>(std::min<std::uint64_t>(*content_length_, 1 << 20)) : 0;
    for (;;) {   // straight into the string: no copy, no scratch on the fiber's stack
        std::size_t at = out.size();
        out.resize(at + std::max<std::size_t>(want, 4096));
        std::size_t n = read(std::span<char>(out).subspan(at));
        out.resize(at + n);
        if (n == 0) return out;
        if (out.size() > limit) throw RequestError(413, "read_all: the body is over " + std::to_string(limit) + " bytes");
        want = 0;
    }
}

}  // namespace gev::http
