// tests/consumer/nested.cpp — the other spelling: <gev/gev.hpp> from -I<prefix>/include
// (an install); a meson subproject's include path is gev's source root, so there the
// plain names are used.
#ifdef GEV_CONSUMER_SUBPROJECT
#include <gev.hpp>
#include <monkey/monkey.hpp>
#else
#include <gev/gev.hpp>
#include <gev/monkey/monkey.hpp>
#endif

#include <string>

std::string nested_hello() {
    auto g = gev::spawn([] { return std::string("nested"); });
    return g.get() + (gev::monkey::is_patched("time") ? ":patched" : ":plain");
}
