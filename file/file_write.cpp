// file/file_write.cpp — gev::File's write side and position: the write buffer, flush,
// seek/tell over both buffers, pread/pwrite beside them, fsync and stat.
#include "file/file.hpp"

#include "file/file_ops.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace gev {

void File::write(std::string_view data) { write(std::as_bytes(std::span(data.data(), data.size()))); }

void File::write(std::span<const std::byte> data) {
    check_open("write");
    if (!writable_) fail(EBADF, "write");
    if (buffered() > 0 || !rbuf_.empty()) drop_read_ahead();
    const auto* p = reinterpret_cast<const char*>(data.data());
    if (wbuf_.size() + data.size() < kBufferSize) {
        wbuf_.append(p, data.size());
        return;
    }
    flush();
    if (data.size() < kBufferSize) {
        wbuf_.append(p, data.size());
        return;
    }
    write_out(p, data.size());   // large: straight out, no copy
}

void File::flush() {
    check_open("flush");
    if (wbuf_.empty()) return;
    std::string out = std::move(wbuf_);
    wbuf_.clear();
    write_out(out.data(), out.size());
}

void File::write_out(const char* p, std::size_t n) {
    wrote_ = true;
    while (n > 0) {
        ssize_t r = detail::file_write(fd_, p, n);
        if (r < 0) fail(static_cast<int>(-r), "write");
        if (r == 0) fail(EIO, "write");   // a regular file that takes nothing would loop forever
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

void File::drop_read_ahead() {
    std::size_t ahead = buffered();
    rbuf_.clear();
    rpos_ = 0;
    if (ahead > 0 && ::lseek(fd_, -static_cast<off_t>(ahead), SEEK_CUR) < 0) fail(errno, "seek");
}

off_t File::seek(off_t offset, int whence) {
    check_open("seek");
    flush();
    if (whence == SEEK_CUR) offset -= static_cast<off_t>(buffered());   // relative to what the caller saw
    rbuf_.clear();
    rpos_ = 0;
    off_t r = ::lseek(fd_, offset, whence);   // only moves a number: never waits on the disk
    if (r < 0) fail(errno, "seek");
    return r;
}

off_t File::tell() {
    check_open("tell");
    off_t r = ::lseek(fd_, 0, SEEK_CUR);
    if (r < 0) fail(errno, "tell");
    return r - static_cast<off_t>(buffered()) + static_cast<off_t>(wbuf_.size());
}

std::size_t File::pread(std::span<std::byte> buf, off_t offset) {
    check_open("pread");
    if (!wbuf_.empty()) flush();
    std::size_t done = 0;
    while (done < buf.size()) {
        ssize_t r = detail::file_pread(fd_, buf.data() + done, buf.size() - done, offset + static_cast<off_t>(done));
        if (r < 0) fail(static_cast<int>(-r), "pread");
        if (r == 0) break;
        done += static_cast<std::size_t>(r);
    }
    return done;
}

std::size_t File::pwrite(std::span<const std::byte> buf, off_t offset) {
    check_open("pwrite");
    wrote_ = true;
    if (!wbuf_.empty()) flush();
    std::size_t done = 0;
    while (done < buf.size()) {
        ssize_t r = detail::file_pwrite(fd_, buf.data() + done, buf.size() - done, offset + static_cast<off_t>(done));
        if (r < 0) fail(static_cast<int>(-r), "pwrite");
        if (r == 0) fail(EIO, "pwrite");
        done += static_cast<std::size_t>(r);
    }
    return done;
}

void File::fsync() {
    flush();
    if (int r = detail::file_fsync(fd_, false); r < 0) fail(-r, "fsync");
}

void File::fdatasync() {
    flush();
    if (int r = detail::file_fsync(fd_, true); r < 0) fail(-r, "fdatasync");
}

FileStat File::stat() {
    check_open("stat");
    struct statx sx{};
    int r = detail::file_statx(fd_, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
    if (r < 0) fail(-r, "stat");
    FileStat s;
    s.size = sx.stx_size;
    s.mode = sx.stx_mode;
    s.inode = sx.stx_ino;
    s.nlink = sx.stx_nlink;
    s.uid = sx.stx_uid;
    s.gid = sx.stx_gid;
    s.mtime_ns = sx.stx_mtime.tv_sec * 1'000'000'000LL + sx.stx_mtime.tv_nsec;
    s.blocks = sx.stx_blocks;
    return s;
}

}  // namespace gev
