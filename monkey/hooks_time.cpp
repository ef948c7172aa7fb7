// monkey/hooks_time.cpp — sleep, usleep, nanosleep, clock_nanosleep. On a hub's fiber
// they park only that fiber (gev::sleep; a zero sleep lets the other ready fibers run
// once, gevent.sleep(0)). Invalid arguments, clocks other than the wall and monotonic
// ones, and every call off a fiber go to the C library, so errors are its own. A
// parked sleep is never cut short by a signal, so `rem` is never written and
// nanosleep never fails with EINTR. A kill or gev::Timeout is thrown out of the sleep.
#include "monkey/context.hpp"
#include "monkey/original.hpp"
#include "monkey/probe.hpp"
#include "runtime/sleep.hpp"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

bool valid(const timespec* t) noexcept {
    return t != nullptr && t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < 1'000'000'000;
}

std::chrono::nanoseconds span(const timespec& t) noexcept {
    using namespace std::chrono;
    if (t.tv_sec >= duration_cast<seconds>(nanoseconds::max()).count() - 1) return nanoseconds::max();
    return seconds(t.tv_sec) + nanoseconds(t.tv_nsec);
}

// Parks for d; errno comes back as it was (other fibers run meanwhile and share it).
void park_for(std::chrono::nanoseconds d) {
    int saved = errno;
    gev::sleep(d);
    errno = saved;
}

// The clocks a hub's monotonic timer can stand in for (a relative wait on each).
bool hub_clock(clockid_t c) noexcept {
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_BOOTTIME || c == CLOCK_TAI;
}

}  // namespace

extern "C" {

unsigned sleep(unsigned seconds) {
    if (md::cooperative(Patch::time) == nullptr) return orig::sleep(seconds);
    park_for(std::chrono::seconds(seconds));
    return 0;
}

int usleep(useconds_t usec) {
    if (md::cooperative(Patch::time) == nullptr) return orig::usleep(usec);
    park_for(std::chrono::microseconds(usec));
    return 0;
}

int nanosleep(const timespec* req, timespec* rem) {
    if (req != nullptr && req->tv_nsec == md::kProbeNsec) [[unlikely]] {
        md::probe_hit(4);
        errno = EINVAL;
        return -1;
    }
    if (!valid(req) || md::cooperative(Patch::time) == nullptr) return orig::nanosleep(req, rem);
    park_for(span(*req));
    return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* req, timespec* rem) {
    if (!valid(req) || !hub_clock(clock) || md::cooperative(Patch::time) == nullptr)
        return orig::clock_nanosleep(clock, flags, req, rem);
    std::chrono::nanoseconds d = span(*req);
    if (flags & TIMER_ABSTIME) {   // an absolute time on `clock`: wait for what is left now
        timespec now{};
        clock_gettime(clock, &now);
        d -= span(now);
        if (d.count() <= 0) return 0;
    }
    park_for(d);
    return 0;
}

}  // extern "C"
