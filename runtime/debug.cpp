// runtime/debug.cpp — format_run_info, dump_fibers and the SIGQUIT dump. Each hub
// describes its own fibers on its own thread (runtime/gather.hpp asks them all); a hub
// that does not answer in time is named in the dump instead.
#include "runtime/debug.hpp"

#include "runtime/errors.hpp"
#include "runtime/gather.hpp"
#include "runtime/hub.hpp"
#include "runtime/symbolize.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

namespace gev {
namespace detail {
namespace {

std::string seconds(std::int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ns < 0 ? 0 : ns) / 1e9);
    return buf;
}

// This hub's part of the dump; runs on the hub's own thread.
std::string describe_hub(Hub& hub) {
    std::int64_t now = clock_ns();
    std::string out = "hub " + std::to_string(hub.index()) + " (" + hub.poller().name() + "): " +
                      std::to_string(hub.live()) + (hub.live() == 1 ? " fiber\n" : " fibers\n");
    for (const Fiber* f = hub.fibers(); f != nullptr; f = f->all_next) {
        out += "  <" + f->display_name() + " id=" + std::to_string(f->id) + "> hub " + std::to_string(hub.index()) +
               ", " + describe_state(f->state);
        std::string why = describe_wait(f, now);
        if (!why.empty()) out += ": " + why;
        out += ", up " + seconds(now - f->debug.spawn_ns);
        if (f->debug.spawn_site != nullptr) out += ", spawned at " + symbolize(f->debug.spawn_site);
        out += '\n';
    }
    return out;
}

}  // namespace
}  // namespace detail

std::string format_run_info(std::chrono::milliseconds patience) {
    using namespace detail;
    Hub& hub = Hub::require("gev::format_run_info");
    std::vector<Hub*> hubs = hubs_of(hub);
    std::vector<std::optional<std::string>> parts =
        gather_from_hubs(hub, hubs, &describe_hub, "format_run_info", patience);
    std::string out;
    std::size_t total = 0;
    for (std::size_t i = 0; i < hubs.size(); ++i) {
        if (parts[i]) out += *parts[i];
        else out += "hub " + std::to_string(i) + ": no answer within " + std::to_string(patience.count()) +
                    " ms (a fiber keeps it busy, or it has stopped)\n";
        if (hubs[i] != nullptr) total += 1;
    }
    return "gev: fibers of " + std::to_string(total) + (total == 1 ? " hub" : " hubs") + ", asked from hub " +
           std::to_string(hub.index()) + "\n" + out;
}

void dump_fibers(int fd) {
    std::string text = format_run_info();
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::system_error(errno, std::generic_category(), "gev::dump_fibers: write");
        off += static_cast<std::size_t>(n);
    }
}

void dump_fibers(std::FILE* out) {
    std::string text = format_run_info();
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0)
        throw std::system_error(errno, std::generic_category(), "gev::dump_fibers: fwrite");
}

SignalHandler enable_sigquit_dump() {
    detail::Hub::require("gev::enable_sigquit_dump");
    return signal_handler(SIGQUIT, [] {
        try {
            dump_fibers(2);
        } catch (const std::system_error& e) {
            std::fprintf(stderr, "gev: SIGQUIT dump failed: %s\n", e.what());
        }
    });
}

}  // namespace gev
