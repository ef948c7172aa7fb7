// fuzz/address_fuzz.cpp — net::Address's "host:port" / "[v6]:port" / path parsing.
// Checks: a string either parses or throws a SocketError; a parsed IPv4/IPv6 address
// prints as a string that parses back to the same address.
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gev::fuzz::quiet_runtime();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    gev::net::Address a;
    try {
        a = gev::net::Address(text);
    } catch (const gev::net::SocketError&) {
        return 0;
    }
    if (a.family() == AF_INET || a.family() == AF_INET6) {
        gev::net::Address back(a.to_string());
        if (!(back == a)) std::abort();
    } else if (a.family() == AF_UNIX) {
        (void)a.to_string();
    } else {
        std::abort();
    }
    return 0;
}
