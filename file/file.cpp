// file/file.cpp — gev::File's life (open, adopt, move, close) and its read side: the
// read-ahead buffer that read(), readline() and line iteration share.
#include "file/file.hpp"

#include "file/file_ops.hpp"
#include "runtime/shield.hpp"
#include "runtime/threadpool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace gev {

namespace {

// Python's open() modes as open(2) flags; -1 for a mode Python would refuse.
int mode_flags(std::string_view mode) {
    int base = -1, count = 0;
    bool plus = false;
    for (char c : mode) {
        switch (c) {
            case 'r': base = O_RDONLY; ++count; break;
            case 'w': base = O_WRONLY | O_CREAT | O_TRUNC; ++count; break;
            case 'a': base = O_WRONLY | O_CREAT | O_APPEND; ++count; break;
            case 'x': base = O_WRONLY | O_CREAT | O_EXCL; ++count; break;
            case '+': if (plus) return -1; plus = true; break;
            case 'b': case 't': break;
            default: return -1;
        }
    }
    if (count != 1) return -1;
    if (plus) base = (base & ~O_ACCMODE) | O_RDWR;
    return base;
}

// close(2) of a file this process wrote: ext4 starts writing a file truncated on open
// back when it is closed (auto_da_alloc), milliseconds for a large one (examples/
// file_copy: 2.7 ms after 100 MiB), so the thread pool makes that call.
int close_fd(int fd, bool written) {
    if (!written || !detail::file_ops_available()) return ::close(fd) == 0 ? 0 : -errno;
    int r = 0;
    Shield hold_kills;   // the fd is gone either way: the kill waits for the next wait
    detail::run_job([fd, &r] { r = ::close(fd) == 0 ? 0 : -errno; });
    return r;
}

}  // namespace

File File::open(const std::string& path, std::string_view mode, mode_t perms) {
    int flags = mode_flags(mode);
    if (flags < 0) throw FileError(EINVAL, "open " + path + " (mode \"" + std::string(mode) + "\")");
    return open(path, flags, perms);
}

File File::open(const std::string& path, int flags, mode_t perms) {
    int fd = detail::file_openat(AT_FDCWD, path.c_str(), flags, perms);
    if (fd < 0) throw FileError(-fd, "open " + path);
    int acc = flags & O_ACCMODE;
    return File(fd, path, acc != O_WRONLY, acc != O_RDONLY);
}

File File::adopt(int fd, std::string name) {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0) throw FileError(errno, "adopt fd " + std::to_string(fd));
    if (name.empty()) name = "fd " + std::to_string(fd);
    int acc = fl & O_ACCMODE;
    return File(fd, std::move(name), acc != O_WRONLY, acc != O_RDONLY);
}

File::File(File&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)), readable_(o.readable_), writable_(o.writable_),
      rbuf_(std::move(o.rbuf_)), rpos_(std::exchange(o.rpos_, 0)), wbuf_(std::move(o.wbuf_)),
      wrote_(std::exchange(o.wrote_, false)) {
    o.rbuf_.clear();
    o.wbuf_.clear();
}

File& File::operator=(File&& o) noexcept {
    if (this == &o) return *this;
    File taken(std::move(o));   // on its way out, `taken` closes what this File held
    std::swap(fd_, taken.fd_);
    name_.swap(taken.name_);
    std::swap(readable_, taken.readable_);
    std::swap(writable_, taken.writable_);
    rbuf_.swap(taken.rbuf_);
    std::swap(rpos_, taken.rpos_);
    wbuf_.swap(taken.wbuf_);
    std::swap(wrote_, taken.wrote_);
    return *this;
}

File::~File() {
    if (fd_ < 0) return;
    try {
        close();
    } catch (const std::exception&) {
        // Reported only by an explicit close(); the fd is closed either way.
    }
}

void File::close() {
    if (fd_ < 0) return;
    int err = 0;
    try {
        flush();
    } catch (const FileError& e) {
        err = e.code().value();
    } catch (...) {   // a kill or Timeout in the flush: the fd still goes
        ::close(std::exchange(fd_, -1));
        throw;
    }
    if (int r = close_fd(std::exchange(fd_, -1), std::exchange(wrote_, false)); r < 0 && err == 0) err = -r;
    rbuf_.clear();
    rpos_ = 0;
    wbuf_.clear();
    if (err != 0) throw FileError(err, "close " + name_);
}

void File::fail(int err, const char* op) const { throw FileError(err, std::string(op) + " " + name_); }

void File::check_open(const char* op) const {
    if (fd_ < 0) throw FileError(EBADF, std::string(op) + " " + (name_.empty() ? "(closed file)" : name_));
}

std::size_t File::fill() {
    if (!readable_) fail(EBADF, "read");
    if (!wbuf_.empty()) flush();
    rbuf_.resize(kBufferSize);
    rpos_ = 0;
    ssize_t r = detail::file_read(fd_, rbuf_.data(), rbuf_.size());
    if (r < 0) {
        rbuf_.clear();
        fail(static_cast<int>(-r), "read");
    }
    rbuf_.resize(static_cast<std::size_t>(r));
    return rbuf_.size();
}

std::size_t File::read(std::span<std::byte> buf) {
    check_open("read");
    if (!readable_) fail(EBADF, "read");
    if (!wbuf_.empty()) flush();
    auto* out = reinterpret_cast<char*>(buf.data());
    std::size_t done = std::min(buffered(), buf.size());
    std::memcpy(out, rbuf_.data() + rpos_, done);
    rpos_ += done;
    while (done < buf.size()) {
        std::size_t want = buf.size() - done;
        if (want < kBufferSize) {   // small: through the buffer, so readline can follow
            if (fill() == 0) break;
            std::size_t k = std::min(want, buffered());
            std::memcpy(out + done, rbuf_.data(), k);
            rpos_ = k;
            done += k;
            continue;
        }
        ssize_t r = detail::file_read(fd_, out + done, want);   // large: straight in
        if (r < 0) fail(static_cast<int>(-r), "read");
        if (r == 0) break;
        done += static_cast<std::size_t>(r);
    }
    return done;
}

std::string File::read(std::size_t n) {
    std::string s(n, '\0');
    s.resize(read(std::as_writable_bytes(std::span(s.data(), s.size()))));
    return s;
}

std::string File::read_all() {
    check_open("read");
    std::string s(rbuf_, rpos_);
    rbuf_.clear();
    rpos_ = 0;
    std::size_t chunk = 1 << 20;
    struct stat st{};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {   // metadata only: no disk wait
        off_t here = ::lseek(fd_, 0, SEEK_CUR);
        if (here >= 0 && st.st_size > here) chunk = static_cast<std::size_t>(st.st_size - here) + 1;
    }
    for (;;) {
        std::size_t at = s.size();
        s.resize(at + chunk);
        std::size_t got = read(std::as_writable_bytes(std::span(s.data() + at, chunk)));
        s.resize(at + got);
        if (got < chunk) return s;
        chunk = std::max<std::size_t>(chunk, 1 << 20);
    }
}

std::string File::readline() {
    check_open("readline");
    std::string line;
    for (;;) {
        if (buffered() == 0 && fill() == 0) return line;
        const char* start = rbuf_.data() + rpos_;
        const void* nl = std::memchr(start, '\n', buffered());
        std::size_t k = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1 : buffered();
        line.append(start, k);
        rpos_ += k;
        if (nl != nullptr) return line;
    }
}

}  // namespace gev
