// file/file.hpp — gev::File, gevent's FileObject: a regular file whose reads, writes,
// fsync, open and stat park only the calling fiber (file_ops.hpp says where each runs).
// Buffered like Python's io.BufferedRandom: reads fill a buffer that readline() and line
// iteration share; writes collect in a buffer that flush(), seek(), a read, close() or
// the destructor write out. One File belongs to one fiber at a time; errors throw
// FileError naming the operation and the path ("open /nope: No such file or directory").
#pragma once

#include "net/socket.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace gev {

// An OS failure of a file operation (errno in code()); what() names operation and path.
class FileError : public std::system_error {
public:
    FileError(int err, const std::string& op) : std::system_error(err, std::generic_category(), op) {}
};

// What stat() reports (statx's basic fields).
struct FileStat {
    std::uint64_t size = 0;
    mode_t mode = 0;          // type and permission bits, as st_mode
    std::uint64_t inode = 0;
    std::uint32_t nlink = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::int64_t mtime_ns = 0;   // since the epoch
    std::uint64_t blocks = 0;    // 512-byte blocks
};

class File {
public:
    class LineIterator;
    class Lines;

    static constexpr std::size_t kBufferSize = 64 * 1024;

    // Opens path with Python's mode letters: "r" read, "w" write (create, truncate),
    // "a" append (create), "x" create exclusively, each with "+" for both directions
    // ("b" and "t" are accepted and ignored). Throws FileError ("open <path>: ...").
    static File open(const std::string& path, std::string_view mode = "r", mode_t perms = 0666);
    // With open(2)'s flags (O_CLOEXEC is added).
    static File open(const std::string& path, int flags, mode_t perms = 0666);
    // Takes fd over (closed by this File); `name` only labels errors.
    static File adopt(int fd, std::string name = {});

    File() = default;
    File(File&& o) noexcept;
    File& operator=(File&& o) noexcept;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    // Flushes and closes; a failure there is lost (call close() to see it).
    ~File();

    // Up to buf.size() bytes (fewer only at the end of the file); 0 at the end.
    std::size_t read(std::span<std::byte> buf);
    // Up to n bytes as a string; empty at the end of the file.
    std::string read(std::size_t n);
    // Everything from the position to the end.
    std::string read_all();
    // The next line with its '\n' (none on a last unterminated line); empty at the end.
    std::string readline();
    // for (const std::string& line : file.lines()) — readline() until the end.
    Lines lines();

    // Buffers data; writes out whatever fills the buffer. Writes all of it or throws.
    void write(std::string_view data);
    void write(std::span<const std::byte> data);
    // Writes the buffered bytes out.
    void flush();

    // lseek(2) after a flush, dropping read-ahead; returns the new position.
    off_t seek(off_t offset, int whence = SEEK_SET);
    // The position as the caller sees it (buffered bytes counted).
    off_t tell();

    // At offset, bypassing the buffers and the position (written data flushed first).
    std::size_t pread(std::span<std::byte> buf, off_t offset);
    std::size_t pwrite(std::span<const std::byte> buf, off_t offset);

    // flush(), then fsync(2) / fdatasync(2).
    void fsync();
    void fdatasync();
    FileStat stat();

    // Flushes and closes; a second close() does nothing. Throws FileError if the flush
    // or close(2) fails (the fd is closed either way).
    void close();
    bool closed() const noexcept { return fd_ < 0; }
    int fileno() const noexcept { return fd_; }
    const std::string& name() const noexcept { return name_; }

private:
    File(int fd, std::string name, bool readable, bool writable) noexcept
        : fd_(fd), name_(std::move(name)), readable_(readable), writable_(writable) {}

    [[noreturn]] void fail(int err, const char* op) const;
    void check_open(const char* op) const;
    std::size_t fill();              // refills rbuf_; 0 at the end of the file
    void drop_read_ahead();          // moves the fd back over unread buffered bytes
    void write_out(const char* p, std::size_t n);
    std::size_t buffered() const noexcept { return rbuf_.size() - rpos_; }

    int fd_ = -1;
    std::string name_;
    bool readable_ = true;
    bool writable_ = true;
    std::string rbuf_;               // read-ahead; rbuf_[rpos_..] not yet returned
    std::size_t rpos_ = 0;
    std::string wbuf_;               // written, not yet flushed
    bool wrote_ = false;             // close(2) may flush to the disk (ext4's auto_da_alloc)
};

class File::LineIterator {
public:
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    LineIterator() = default;
    explicit LineIterator(File* f) : f_(f) { ++*this; }
    const std::string& operator*() const noexcept { return line_; }
    LineIterator& operator++() {
        line_ = f_->readline();
        if (line_.empty()) f_ = nullptr;
        return *this;
    }
    bool operator==(const LineIterator& o) const noexcept { return f_ == o.f_; }

private:
    File* f_ = nullptr;
    std::string line_;
};

class File::Lines {
public:
    explicit Lines(File& f) : f_(&f) {}
    LineIterator begin() { return LineIterator(f_); }
    LineIterator end() { return {}; }

private:
    File* f_;
};

inline File::Lines File::lines() { return Lines(*this); }

// Sends count bytes of file from offset over sock (the file's position is left alone),
// parking while the socket is full; the socket's timeout bounds each wait. Returns the
// bytes sent: fewer than count only when the file ends first. Throws FileError or
// net::SocketError naming "sendfile".
std::size_t sendfile(net::Socket& sock, File& file, off_t offset, std::size_t count);

}  // namespace gev
