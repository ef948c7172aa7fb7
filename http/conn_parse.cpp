// http/conn_parse.cpp — llhttp's callbacks for a Conn: header pieces are gathered as
// offsets into the read buffer (trailers are copied aside, since body bytes reuse the
// buffer), the header-count limit and the rules llhttp does not enforce (whitespace
// before the colon, obs-fold) are checked as the pieces come, and the parser pauses
// after each header block and each message.
#include "http/conn.hpp"

#include <cstdio>
#include <cstdlib>

namespace gev::http::detail {

namespace {
Conn& self(llhttp_t* p) noexcept { return *static_cast<Conn*>(p->data); }
}  // namespace

int Conn::on_url(llhttp_t* p, const char* at, std::size_t n) {
    Conn& c = self(p);
    if (c.url_.len == 0) c.url_.off = c.off(at);
    c.url_.len += static_cast<std::uint32_t>(n);
    return 0;
}

int Conn::on_field(llhttp_t* p, const char* at, std::size_t n) {
    Conn& c = self(p);
    c.url_done_ = true;
    if (c.in_trailers_) {
        if (c.field_.len == 0) c.field_.off = static_cast<std::uint32_t>(c.trailer_store_.size());
        c.trailer_store_.append(at, n);
    } else if (c.field_.len == 0) {
        c.field_.off = c.off(at);
    }
    c.field_.len += static_cast<std::uint32_t>(n);
    c.field_end_ = c.off(at) + n;
    return 0;
}

// The byte after a field name must be the colon: "Host : x" is rejected (RFC 9112 5.1).
int Conn::on_field_complete(llhttp_t* p) {
    Conn& c = self(p);
    if (c.field_end_ < c.in_.len && c.in_.p[c.field_end_] != ':') {
        c.reject_ = 400;
        return -1;
    }
    return 0;
}

int Conn::on_value(llhttp_t* p, const char* at, std::size_t n) {
    Conn& c = self(p);
    // A value piece that starts a line is an obs-fold continuation (RFC 9112 5.2).
    if ((at != c.exec_start_ || !c.in_trailers_) && at > c.in_.p && at[-1] == '\n') {
        c.reject_ = 400;
        return -1;
    }
    if (c.in_trailers_) {
        if (c.value_.len == 0) c.value_.off = static_cast<std::uint32_t>(c.trailer_store_.size());
        c.trailer_store_.append(at, n);
    } else if (c.value_.len == 0) {
        c.value_.off = c.off(at);
    }
    c.value_.len += static_cast<std::uint32_t>(n);
    return 0;
}

int Conn::on_value_complete(llhttp_t* p) {
    Conn& c = self(p);
    const char* base = c.in_trailers_ ? c.trailer_store_.data() : c.in_.p;
    while (c.value_.len > 0 && (base[c.value_.off + c.value_.len - 1] == ' ' || base[c.value_.off + c.value_.len - 1] == '\t'))
        --c.value_.len;
    auto& list = c.in_trailers_ ? c.trailer_fields_ : c.fields_;
    list.emplace_back(c.field_, c.value_);
    c.field_ = c.value_ = {};
    if (list.size() > c.st_.options.max_headers ||
        (c.in_trailers_ && c.trailer_store_.size() > c.st_.options.max_header_bytes)) {
        c.reject_ = 431;
        return -1;
    }
    return 0;
}

int Conn::on_headers_complete(llhttp_t* p) {
    Conn& c = self(p);
    c.url_done_ = c.head_done_ = c.in_trailers_ = true;
    return HPE_PAUSED;
}

int Conn::on_body(llhttp_t* p, const char* at, std::size_t n) {
    Conn& c = self(p);
    if (c.discarding_) {
        c.body_got_ += n;
        return 0;
    }
    if (c.body_dst_ == nullptr || c.body_got_ + n > c.body_cap_) {
        std::fputs("gev: http body bytes arrived with nowhere to go (a parser feeding bug)\n", stderr);
        std::abort();
    }
    std::memcpy(c.body_dst_ + c.body_got_, at, n);
    c.body_got_ += n;
    return 0;
}

int Conn::on_message_complete(llhttp_t* p) {
    Conn& c = self(p);
    c.message_done_ = true;
    for (auto& [f, v] : c.trailer_fields_)
        c.req_.trailers_.add(std::string_view(c.trailer_store_).substr(f.off, f.len),
                             std::string_view(c.trailer_store_).substr(v.off, v.len));
    return HPE_PAUSED;
}

}  // namespace gev::http::detail
