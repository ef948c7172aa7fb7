// perf/file_bench.cpp — gev's file reads and writes against plain read/write, per
// poller, page cache hot and cold (POSIX_FADV_DONTNEED before each cold round), in 4 KiB
// and 1 MiB chunks. "gev" is the default policy (reads try preadv2 RWF_NOWAIT first),
// "gev_submit" sends every read to io_uring or the thread pool. Rounds interleave the
// implementations; prints `file_<case>_<chunk> impl=I poller=P n=N ns_per_op=MEDIAN
// mib_s=X rounds=R` per combination. Results: perf/results/2026-12-05-files-2cpu.md.
// Run: build/perf/file_bench [--scale F] [--rounds R]   (F=1: a 64 MiB file)
#include "bench_util.hpp"
#include "gev.hpp"
#include "file/file_ops.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

namespace {

enum class Impl { plain, gev, gev_submit };
const char* const kImplNames[] = {"plain", "gev", "gev_submit"};

struct Case {
    const char* name;
    bool write;
    bool cold;
};

int open_or_die(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::perror(path.c_str());
        std::exit(2);
    }
    return fd;
}

// One pass over the file; returns its nanoseconds.
double pass(const Case& c, Impl impl, const std::string& path, std::size_t size, std::size_t chunk, std::string& buf) {
    gev::detail::set_file_nowait_first(impl != Impl::gev_submit);
    int fd = open_or_die(path, c.write ? O_WRONLY | O_TRUNC : O_RDONLY);
    if (c.cold) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    double t0 = perf::now_ns();
    for (std::size_t done = 0; done < size;) {
        ssize_t r = 0;
        if (impl == Impl::plain)
            r = c.write ? ::write(fd, buf.data(), chunk) : ::read(fd, buf.data(), chunk);
        else
            r = c.write ? gev::detail::file_write(fd, buf.data(), chunk) : gev::detail::file_read(fd, buf.data(), chunk);
        if (r <= 0) {
            std::fprintf(stderr, "file_bench: %s returned %zd\n", c.name, r);
            std::exit(2);
        }
        done += static_cast<std::size_t>(r);
    }
    double ns = perf::now_ns() - t0;
    ::close(fd);
    return ns;
}

void bench_poller(const std::string& poller, const std::string& path, std::size_t size) {
    const Case cases[] = {{"read_hot", false, false}, {"read_cold", false, true}, {"write", true, false}};
    gev::RunOptions opts;
    opts.poller = poller;
    gev::run([&] {
        std::string buf(1 << 20, 'w');
        for (const Case& c : cases) {
            for (std::size_t chunk : {std::size_t{4096}, std::size_t{1} << 20}) {
                std::string name = std::string("file_") + c.name + "_" + (chunk == 4096 ? "4k" : "1m");
                if (!perf::want(name.c_str())) continue;
                if (!c.write && !c.cold) pass(c, Impl::plain, path, size, chunk, buf);   // warm the cache
                std::map<int, std::vector<double>> ns;
                for (int round = 0; round < perf::g_rounds; ++round)
                    for (Impl impl : {Impl::plain, Impl::gev, Impl::gev_submit})
                        ns[static_cast<int>(impl)].push_back(pass(c, impl, path, size, chunk, buf));
                for (auto& [impl, v] : ns) {
                    std::sort(v.begin(), v.end());
                    double med = v[v.size() / 2];
                    std::printf("%s impl=%s poller=%s n=%zu ns_per_op=%.0f mib_s=%.0f rounds=%d\n", name.c_str(),
                                kImplNames[impl], poller.c_str(), size / chunk, med / static_cast<double>(size / chunk),
                                static_cast<double>(size) / (1 << 20) / (med / 1e9), perf::g_rounds);
                }
                std::fflush(stdout);
            }
        }
    }, opts);
}

}  // namespace

int main(int argc, char** argv) {
    perf::parse_args(argc, argv);
    std::size_t size = std::max<std::size_t>(1 << 20, perf::scaled(64u << 20) & ~std::size_t{(1 << 20) - 1});
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/gev-file-bench-" + std::to_string(::getpid());
    {
        int fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);
        std::string block(1 << 20, 'x');
        for (std::size_t i = 0; i < size; i += block.size())
            if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) std::exit(2);
        ::fdatasync(fd);   // clean pages: DONTNEED can drop them
        ::close(fd);
    }
    for (const char* p : {"epoll", "io_uring"}) bench_poller(p, path, size);
    ::unlink(path.c_str());
}
