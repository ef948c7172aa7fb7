// perf/monkey_bench.cpp — what gev_monkey's hooks cost when nothing blocks: in a fiber,
// with patch_all(), write 64 bytes into one end of a Unix socketpair and read them back
// from the other, through the hooks (rw_patched: read/write as any library calls them,
// the fds managed by gev) and through the C library's functions directly
// (rw_direct: gev::monkey::original, same fds, same fiber). One op = one write + one
// read. The two run interleaved, A B A B, for --rounds rounds (default 15) after one
// untimed round each; it prints each one's median and min, then the ratio of the
// medians and the median of the per-round ratios (issue 6's goal: ≤ 1.1×).
// With --only NAME: that one alone, as perf/suite.py runs it.
// With --callgrind: instructions per op of each, from two runs under valgrind.
// With --fds N (issue 11): N patched connections (N/2 socketpairs, RLIMIT_NOFILE raised
// as far as allowed) each set SO_RCVTIMEO and SO_SNDTIMEO, move one byte (the fd's first
// use: gev manages it) and close; prints fd_timeouts with the ns per connection, which
// stays flat as N grows when every fd-table call is O(1).
// Run: build/perf/monkey_bench [--scale F] [--rounds R] [--only NAME] [--callgrind] [--fds N]
#include "gev.hpp"
#include "monkey/monkey.hpp"
#include "monkey/original.hpp"
#include "perf/bench_util.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

namespace orig = gev::monkey::original;
using perf::now_ns;

int g_fd[2] = {-1, -1};
char g_buf[64];

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

// read and write as every library calls them: through the symbol lookup, to the hooks.
double rw_patched(std::size_t n) {
    double t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) {
        if (::write(g_fd[0], g_buf, sizeof g_buf) != sizeof g_buf) die("rw_patched write");
        if (::read(g_fd[1], g_buf, sizeof g_buf) != sizeof g_buf) die("rw_patched read");
    }
    return (now_ns() - t0) / static_cast<double>(n);
}

double rw_direct(std::size_t n) {
    double t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) {
        if (orig::write(g_fd[0], g_buf, sizeof g_buf) != sizeof g_buf) die("rw_direct write");
        if (orig::read(g_fd[1], g_buf, sizeof g_buf) != sizeof g_buf) die("rw_direct read");
    }
    return (now_ns() - t0) / static_cast<double>(n);
}

struct Variant {
    const char* name;
    double (*once)(std::size_t);
    std::vector<double> samples{};
};

// Refuses to report a figure that would compare the C library with itself.
void check_hooked() {
    if (!gev::monkey::hooks_active()) {
        std::fprintf(stderr, "monkey_bench: the hooks are not active in this process\n");
        std::exit(1);
    }
    // Managed: the kernel's flag is O_NONBLOCK while the caller still sees a blocking fd.
    int real = orig::fcntl(g_fd[1], F_GETFL, nullptr), seen = ::fcntl(g_fd[1], F_GETFL);
    if (real < 0 || seen < 0 || !(real & O_NONBLOCK) || (seen & O_NONBLOCK)) {
        std::fprintf(stderr, "monkey_bench: gev does not manage the socketpair (flags %#x, seen %#x)\n", real, seen);
        std::exit(1);
    }
}

void print(const Variant& v, std::size_t n) {
    std::vector<double> s = v.samples;
    std::sort(s.begin(), s.end());
    std::printf("%s n=%zu ns_per_op=%.2f min=%.2f rounds=%zu\n", v.name, n, s[s.size() / 2], s.front(), s.size());
}

double median(std::vector<double> s) {
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
}

void interleaved(std::size_t n) {
    Variant a{"rw_patched", rw_patched}, b{"rw_direct", rw_direct};
    a.once(n);   // untimed: caches and the branch predictor warm
    b.once(n);
    for (int r = 0; r < perf::g_rounds; ++r) {
        a.samples.push_back(a.once(n));
        b.samples.push_back(b.once(n));
    }
    print(a, n);
    print(b, n);
    std::vector<double> per_round;
    for (std::size_t i = 0; i < a.samples.size(); ++i) per_round.push_back(a.samples[i] / b.samples[i]);
    double ratio = median(a.samples) / median(b.samples);
    std::printf("rw_ratio n=%zu ratio=%.3f round_ratio_median=%.3f round_ratio_min=%.3f "
                "round_ratio_max=%.3f goal=1.10 met=%s\n",
                n, ratio, median(per_round), *std::min_element(per_round.begin(), per_round.end()),
                *std::max_element(per_round.begin(), per_round.end()), ratio <= 1.10 ? "yes" : "no");
}

// The decimal number after the first `key` in `text` (spaces skipped), or -1.
long long number_after(const std::string& text, const std::string& key) {
    std::size_t at = text.find(key);
    if (at == std::string::npos) return -1;
    const char* p = text.c_str() + at + key.size();
    while (*p == ' ') ++p;
    char* end = nullptr;
    long long v = std::strtoll(p, &end, 10);
    return end == p ? -1 : v;
}

// Instructions (valgrind's Ir) of `--only name` at two sizes; their difference over the
// extra ops cancels start-up. epoll: valgrind need not know io_uring's system calls.
long long callgrind_ir(const char* self, const char* name, double scale, std::size_t* n) {
    std::string cmd = "GEV_POLLER=epoll valgrind --tool=callgrind --callgrind-out-file=/dev/null '" +
                      std::string(self) + "' --only " + name + " --rounds 1 --scale " + std::to_string(scale) +
                      " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return -1;
    std::string out;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) out += line;
    if (::pclose(p) != 0) return -1;
    long long ir = number_after(out, "Collected :");
    long long ops = number_after(out, std::string(name) + " n=");
    if (ir < 0 || ops < 0) return -1;
    *n = static_cast<std::size_t>(ops);
    return ir;
}

int callgrind(const char* self) {
    if (std::system("valgrind --version >/dev/null 2>&1") != 0) {
        std::puts("callgrind skipped: valgrind is not installed (apt-get install valgrind)");
        return 0;
    }
    for (const char* name : {"rw_patched", "rw_direct"}) {
        std::size_t n1 = 0, n2 = 0;
        long long ir1 = callgrind_ir(self, name, perf::g_scale * 0.1, &n1);
        long long ir2 = callgrind_ir(self, name, perf::g_scale * 0.2, &n2);
        if (ir1 < 0 || ir2 < 0 || n2 <= n1) {
            std::fprintf(stderr, "monkey_bench: callgrind %s failed\n", name);
            return 1;
        }
        std::printf("%s_ir n=%zu instructions_per_op=%.1f\n", name, n2 - n1,
                    static_cast<double>(ir2 - ir1) / static_cast<double>(n2 - n1));
    }
    return 0;
}

// Raises the soft fd limit to what `want` fds need (at most the hard limit); returns
// how many fds may be opened beyond those already open, with room for the runtime's.
std::size_t fd_room(std::size_t want) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
    rlim_t need = static_cast<rlim_t>(want) + 256;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur > 256 ? static_cast<std::size_t>(rl.rlim_cur - 256) : 0;
}

// One round of the --fds mode: ns per connection (fd) for open, two timeouts, first
// use, close. A fiber runs it, so the first use manages each fd as a library's would.
double fd_timeouts(std::size_t pairs) {
    std::vector<int> fds(2 * pairs, -1);
    timeval tv{5, 0};
    char c = 'x';
    double t0 = now_ns();
    for (std::size_t i = 0; i < pairs; ++i)
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[2 * i]) != 0) die("socketpair");
    for (int fd : fds) {
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) die("setsockopt SO_RCVTIMEO");
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) die("setsockopt SO_SNDTIMEO");
    }
    for (std::size_t i = 0; i < pairs; ++i)
        if (::write(fds[2 * i], &c, 1) != 1 || ::read(fds[2 * i + 1], &c, 1) != 1) die("fd_timeouts write/read");
    for (int fd : fds) ::close(fd);
    return (now_ns() - t0) / static_cast<double>(fds.size());
}

int fds_mode(std::size_t want) {
    std::size_t pairs = std::min(want, fd_room(want)) / 2;
    if (pairs < want / 2)
        std::fprintf(stderr, "monkey_bench: RLIMIT_NOFILE allows %zu fds, not %zu\n", 2 * pairs, want);
    gev::RunOptions options;
    options.monitor = false;
    return gev::run([&] {
        perf::bench("fd_timeouts", 2 * pairs, [&] { return fd_timeouts(pairs); });
    }, options);
}

}  // namespace

int main(int argc, char** argv) {
    bool want_callgrind = false;
    std::size_t fds = 0;
    std::vector<char*> args{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--callgrind") == 0) want_callgrind = true;
        else if (std::strcmp(argv[i], "--fds") == 0 && i + 1 < argc) fds = std::strtoul(argv[++i], nullptr, 10);
        else args.push_back(argv[i]);
    }
    perf::g_rounds = 15;   // short, paired rounds: the load on a shared machine moves less within one
    perf::parse_args(static_cast<int>(args.size()), args.data());
    gev::monkey::patch_all();
    if (fds > 0) return fds_mode(fds);
    std::size_t n = perf::scaled(50'000);
    gev::RunOptions options;
    options.monitor = false;   // the loops hold the hub on purpose (never parking: the data is ready)
    int rc = gev::run([&] {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_fd) != 0) die("socketpair");
        rw_patched(1);   // the first hooked read makes gev manage the fds
        check_hooked();
        if (perf::g_only == nullptr) {
            interleaved(n);
        } else {
            perf::bench("rw_patched", n, [&] { return rw_patched(n); });
            perf::bench("rw_direct", n, [&] { return rw_direct(n); });
        }
        ::close(g_fd[0]);
        ::close(g_fd[1]);
    }, options);
    if (rc == 0 && want_callgrind) rc = callgrind(argv[0]);
    return rc;
}
