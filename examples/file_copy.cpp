// examples/file_copy.cpp — copying a file with gev::File parks only the copying fiber:
// a ticker that sleeps 1 ms keeps its beat, while the same copy made with blocking
// read/write holds the hub for the whole copy. With no arguments: makes a 100 MiB
// temporary file, copies it both ways beside the ticker, checks both copies, prints
// "<how> copy: 100 MiB in X s, worst lateness Y ms" for each (after the ticker's
// lateness with no copy at all, the machine's floor) and removes its files; exits 1
// if a copy differs. With SRC DST: copies SRC to DST with gev::File.
// Run: build/examples/file_copy [--mib N | SRC DST]
#include "gev.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kChunk = 1 << 20;

void die(const char* what) {
    std::perror(what);
    std::exit(2);
}

// The source: a pattern that differs from block to block, so a misplaced block shows.
void make_source(const std::string& path, std::size_t mib) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("create source");
    std::string block(kChunk, '\0');
    for (std::size_t m = 0; m < mib; ++m) {
        for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((i * 31 + m * 7 + i / 4096) & 0xff);
        if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) die("write source");
    }
    ::close(fd);
}

void copy_with_file(const std::string& src, const std::string& dst) {
    gev::File in = gev::File::open(src);
    gev::File out = gev::File::open(dst, "w", 0600);
    std::string buf(kChunk, '\0');
    while (std::size_t n = in.read(std::as_writable_bytes(std::span(buf.data(), buf.size()))))
        out.write(std::string_view(buf.data(), n));
    out.close();
}

void copy_blocking(const std::string& src, const std::string& dst) {
    int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in < 0 || out < 0) die("open for the blocking copy");
    std::string buf(kChunk, '\0');
    for (ssize_t n; (n = ::read(in, buf.data(), buf.size())) > 0;)
        if (::write(out, buf.data(), static_cast<std::size_t>(n)) != n) die("blocking write");
    ::close(in);
    ::close(out);
}

// Copies nothing for a while: what the ticker's lateness is worth on this machine.
void idle(const std::string&, const std::string&) { gev::sleep(300ms); }

bool same_contents(const std::string& a, const std::string& b) {
    int fa = ::open(a.c_str(), O_RDONLY | O_CLOEXEC), fb = ::open(b.c_str(), O_RDONLY | O_CLOEXEC);
    if (fa < 0 || fb < 0) return false;
    std::string x(kChunk, '\0'), y(kChunk, '\0');
    bool same = true;
    for (;;) {
        ssize_t n = ::read(fa, x.data(), x.size()), m = ::read(fb, y.data(), y.size());
        if (n != m || n < 0) same = false;
        if (!same || n <= 0) break;
        same = std::memcmp(x.data(), y.data(), static_cast<std::size_t>(n)) == 0;
    }
    ::close(fa);
    ::close(fb);
    return same;
}

// Runs copy() in this fiber while another sleeps 1 ms at a time; prints the line.
void timed_copy(const char* how, void (*copy)(const std::string&, const std::string&), const std::string& src,
                const std::string& dst, std::size_t mib) {
    bool copying = true;
    double worst_ms = 0;
    Clock::time_point asleep;   // when the ticker's current sleep began
    auto lateness = [&asleep] { return std::chrono::duration<double, std::milli>(Clock::now() - asleep - 1ms).count(); };
    auto ticker = gev::spawn([&] {
        while (copying) {
            asleep = Clock::now();
            gev::sleep(1ms);
            if (copying) worst_ms = std::max(worst_ms, lateness());
        }
    });
    gev::sleep(2ms);   // the ticker is on its beat before the copy starts
    auto t0 = Clock::now();
    copy(src, dst);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    worst_ms = std::max(worst_ms, lateness());   // the tick that is still waiting counts too
    copying = false;
    ticker.join();
    if (copy == idle) std::printf("no copy: ticker alone for %.2f s, worst lateness %.1f ms\n", secs, worst_ms);
    else std::printf("%s copy: %zu MiB in %.2f s, worst lateness %.1f ms\n", how, mib, secs, worst_ms);
    std::fflush(stdout);
}

int demo(std::size_t mib) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/gev-file-copy-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) die("mkdtemp");
    std::string src = dir + "/source", a = dir + "/gev-copy", b = dir + "/blocking-copy";
    make_source(src, mib);
    int rc = gev::run([&] {
        timed_copy("no", idle, src, a, mib);   // the machine's own noise: a busy one wakes sleepers late
        timed_copy("gev::File", copy_with_file, src, a, mib);
        timed_copy("blocking", copy_blocking, src, b, mib);
        return 0;
    });
    bool ok_a = same_contents(src, a), ok_b = same_contents(src, b);
    if (!ok_a) std::fprintf(stderr, "file_copy: the gev::File copy differs from the source\n");
    if (!ok_b) std::fprintf(stderr, "file_copy: the blocking copy differs from the source\n");
    for (const std::string& p : {src, a, b}) ::unlink(p.c_str());
    ::rmdir(dir.c_str());
    return rc == 0 && ok_a && ok_b ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--mib") == 0) return demo(std::strtoul(argv[2], nullptr, 10));
    if (argc == 3) {
        return gev::run([&] {
            copy_with_file(argv[1], argv[2]);
            return 0;
        });
    }
    if (argc != 1) {
        std::fprintf(stderr, "usage: file_copy [--mib N | SRC DST]\n");
        return 2;
    }
    return demo(100);
}
