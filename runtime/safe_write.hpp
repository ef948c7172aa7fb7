// runtime/safe_write.hpp — text for signal handlers: the stack-overflow report and the
// watchdog's backtrace are written from handlers, where malloc, stdio and locks are
// off limits. A SafeWriter formats into a fixed buffer and hands it to write(2).
// Used by overflow.cpp and monitor.cpp on whichever thread took the signal.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gev::detail {

class Fiber;

class SafeWriter {
public:
    explicit SafeWriter(int fd) noexcept : fd_(fd) {}
    SafeWriter(const SafeWriter&) = delete;
    SafeWriter& operator=(const SafeWriter&) = delete;
    ~SafeWriter() { flush(); }

    SafeWriter& str(const char* s) noexcept;
    SafeWriter& str(const char* s, std::size_t n) noexcept;
    SafeWriter& num(std::uint64_t v) noexcept;
    SafeWriter& hex(std::uintptr_t v) noexcept;   // 0x...
    // "<name id=N>", as Fiber::display_name() would say it, without allocating.
    SafeWriter& fiber(const Fiber* f) noexcept;
    // "module(symbol+0xoff)[0xaddr]" for a code address, then a newline.
    SafeWriter& code_address(const void* pc) noexcept;
    void flush() noexcept;

private:
    int fd_;
    std::size_t len_ = 0;
    char buf_[512];
};

// The calling thread's stack, `max` frames after skipping `skip`, one indented
// line each. Call warm_backtrace() once outside any handler first: the unwinder's
// first use loads libgcc_s, which allocates.
void write_backtrace(int fd, int skip, int max) noexcept;
void warm_backtrace() noexcept;

}  // namespace gev::detail
