// runtime/errors.cpp — turning exceptions into gevent-style one-line reports.
#include "runtime/errors.hpp"

#include "runtime/timeout.hpp"

#include <cxxabi.h>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace gev::detail {

void throw_usage(std::errc code, const std::string& what) {
    throw std::system_error(std::make_error_code(code), what);
}

void die(const std::string& message) noexcept {
    std::fprintf(stderr, "gev: %s\n", message.c_str());
    std::fflush(stderr);
    std::abort();
}

namespace {
std::string demangle(const std::type_info* t) {
    if (t == nullptr) return "unknown exception";
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(t->name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? name.get() : t->name();
}
}  // namespace

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return demangle(abi::__cxa_current_exception_type()) + ": " + x.what();
    } catch (const Timeout& t) {
        return "gev::Timeout: " + t.describe();
    } catch (const GreenletExit&) {
        return "gev::GreenletExit";
    } catch (...) {
        return demangle(abi::__cxa_current_exception_type());
    }
}

bool is_greenlet_exit(const std::exception_ptr& e) noexcept {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const GreenletExit&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace gev::detail
