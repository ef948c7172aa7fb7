// runtime/safe_write.cpp — async-signal-safe formatting (see safe_write.hpp).
#include "runtime/safe_write.hpp"

#include "runtime/fiber.hpp"

#include <execinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace gev::detail {

SafeWriter& SafeWriter::str(const char* s, std::size_t n) noexcept {
    while (n > 0) {
        if (len_ == sizeof buf_) flush();
        std::size_t k = sizeof buf_ - len_ < n ? sizeof buf_ - len_ : n;
        std::memcpy(buf_ + len_, s, k);
        len_ += k;
        s += k;
        n -= k;
    }
    return *this;
}

SafeWriter& SafeWriter::str(const char* s) noexcept { return str(s, std::strlen(s)); }

SafeWriter& SafeWriter::num(std::uint64_t v) noexcept {
    char tmp[24];
    std::size_t i = sizeof tmp;
    do {
        tmp[--i] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return str(tmp + i, sizeof tmp - i);
}

SafeWriter& SafeWriter::hex(std::uintptr_t v) noexcept {
    char tmp[2 + 2 * sizeof v];
    std::size_t i = sizeof tmp;
    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    return str(tmp + i, sizeof tmp - i);
}

SafeWriter& SafeWriter::fiber(const Fiber* f) noexcept {
    str("<");
    if (!f->debug.name.empty()) str(f->debug.name.data(), f->debug.name.size());
    else if (f->kind == FiberKind::root) str("main");
    else str("Greenlet-").num(f->id);
    return str(" id=").num(f->id).str(">");
}

SafeWriter& SafeWriter::code_address(const void* pc) noexcept {
    flush();
    void* frame = const_cast<void*>(pc);
    ::backtrace_symbols_fd(&frame, 1, fd_);   // writes its own newline
    return *this;
}

void SafeWriter::flush() noexcept {
    std::size_t off = 0;
    while (off < len_) {
        // The system call itself, not write(): under monkey patching write() on a regular
        // file parks the fiber, and this runs in signal handlers.
        long n = ::syscall(SYS_write, fd_, buf_ + off, len_ - off);
        if (n <= 0) break;   // nowhere to report to: drop it
        off += static_cast<std::size_t>(n);
    }
    len_ = 0;
}

void write_backtrace(int fd, int skip, int max) noexcept {
    void* frames[64];
    if (max > 64 - skip) max = 64 - skip;
    int n = ::backtrace(frames, skip + max);
    for (int i = skip; i < n; ++i) SafeWriter(fd).str("    ").code_address(frames[i]);
}

void warm_backtrace() noexcept {
    void* frames[2];
    ::backtrace(frames, 2);
}

}  // namespace gev::detail
