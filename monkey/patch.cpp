// monkey/patch.cpp — the switches (patch_all, patch_socket, ..., is_patched), the
// probe behind hooks_active(), and what the environment asks for when the library is
// loaded: GEV_MONKEY=all (or a list: socket,time,select,dns,subprocess,file) patches before main, so
// an unmodified program run with LD_PRELOAD=libgev_monkey.so is patched;
// GEV_DEBUG_BLOCKING=1 starts the blocking-call watchdog; GEV_MONKEY_POISON=0 keeps
// interrupted connections as they are (monkey/poison.hpp).
#include "monkey/context.hpp"
#include "monkey/debug_blocking.hpp"
#include "monkey/probe.hpp"

#include <netdb.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace gev::monkey {

namespace detail {
constinit std::atomic<unsigned> g_patched{0};
constinit thread_local unsigned t_probe_hits = 0;
extern const char kProbeHost[] = "gev-monkey-probe.invalid";
}  // namespace detail

namespace {

void patch(Patch p) noexcept { detail::g_patched.fetch_or(static_cast<unsigned>(p), std::memory_order_relaxed); }

unsigned parse_modules(const char* s) noexcept {
    std::string_view v(s);
    if (v == "1" || v == "all") return static_cast<unsigned>(Patch::all);
    unsigned bits = 0;
    while (!v.empty()) {
        std::size_t comma = v.find(',');
        std::string_view name = v.substr(0, comma);
        if (name == "socket") bits |= static_cast<unsigned>(Patch::socket);
        else if (name == "time") bits |= static_cast<unsigned>(Patch::time);
        else if (name == "select") bits |= static_cast<unsigned>(Patch::select);
        else if (name == "dns") bits |= static_cast<unsigned>(Patch::dns);
        else if (name == "subprocess" || name == "os") bits |= static_cast<unsigned>(Patch::subprocess);
        else if (name == "file") bits |= static_cast<unsigned>(Patch::file);
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
    return bits;
}

[[gnu::constructor]] void from_environment() {
    if (const char* m = std::getenv("GEV_MONKEY"); m != nullptr && *m != '\0')
        detail::g_patched.fetch_or(parse_modules(m), std::memory_order_relaxed);
    if (const char* p = std::getenv("GEV_MONKEY_POISON"); p != nullptr && std::strcmp(p, "0") == 0)
        set_poison_on_interrupt(false);
    const char* d = std::getenv("GEV_DEBUG_BLOCKING");
    if (d != nullptr && *d != '\0' && std::strcmp(d, "0") != 0) {
        long ms = 100;
        if (const char* t = std::getenv("GEV_DEBUG_BLOCKING_MS")) ms = std::max(1L, std::strtol(t, nullptr, 10));
        debug_blocking(std::chrono::milliseconds(ms));
    }
}

}  // namespace

void patch_all() noexcept { patch(Patch::all); }
void patch_socket() noexcept { patch(Patch::socket); }
void patch_time() noexcept { patch(Patch::time); }
void patch_select() noexcept { patch(Patch::select); }
void patch_dns() noexcept { patch(Patch::dns); }
void patch_subprocess() noexcept { patch(Patch::subprocess); }
void patch_file() noexcept { patch(Patch::file); }
void unpatch_all() noexcept { detail::g_patched.store(0, std::memory_order_relaxed); }

bool is_patched(Patch what) noexcept {
    unsigned w = static_cast<unsigned>(what);
    return (detail::g_patched.load(std::memory_order_relaxed) & w) == w;
}

bool is_patched(std::string_view module) noexcept {
    if (module == "socket") return is_patched(Patch::socket);
    if (module == "time") return is_patched(Patch::time);
    if (module == "select") return is_patched(Patch::select);
    if (module == "dns") return is_patched(Patch::dns);
    if (module == "subprocess" || module == "os") return is_patched(Patch::subprocess);
    if (module == "file") return is_patched(Patch::file);
    return false;
}

bool hooks_active() noexcept {
    // One call of each part through the ordinary symbol lookup, with arguments the C
    // library would refuse at once; each hook notes the probe and answers as it would.
    int saved = errno;
    detail::t_probe_hits = 0;
    char c;
    [[maybe_unused]] ssize_t r = ::read(detail::kProbeFd, &c, 1);
    pollfd p{detail::kProbeFd, POLLIN, 0};
    ::poll(&p, 1, 0);
    timespec bad{0, detail::kProbeNsec};
    ::nanosleep(&bad, nullptr);
    addrinfo* res = nullptr;
    if (::getaddrinfo(detail::kProbeHost, nullptr, nullptr, &res) == 0) ::freeaddrinfo(res);
    errno = saved;
    return detail::t_probe_hits == detail::kProbeAll;
}

}  // namespace gev::monkey
