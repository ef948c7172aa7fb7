// examples/pyrepr.hpp — Python's repr() of bytes and of an address tuple, so the ported
// seed programs print byte for byte what the Python originals print.
#pragma once

#include "gev.hpp"

#include <cstdio>
#include <string>
#include <string_view>

namespace pyrepr {

// repr() of a bytes object: b'hi', b"it's", b'\xff\n'.
inline std::string bytes(std::string_view s) {
    char quote = s.find('\'') != s.npos && s.find('"') == s.npos ? '"' : '\'';
    std::string out = std::string("b") + quote;
    for (unsigned char c : s) {
        if (c == quote || c == '\\') out += {'\\', static_cast<char>(c)};
        else if (c == '\t') out += "\\t";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c >= 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else out += static_cast<char>(c);
    }
    return out + quote;
}

// repr() of an AF_INET address tuple: ('127.0.0.1', 57558).
inline std::string tuple(const gev::net::Address& a) {
    return "('" + a.host() + "', " + std::to_string(a.port()) + ")";
}

}  // namespace pyrepr
