// monkey/probe.hpp — how hooks_active() tells that a call reached gev's definition:
// arguments the C library refuses at once (a negative fd, an invalid timespec, a
// ".invalid" host) make the hook note a hit on this thread and answer exactly as the
// C library would. One compare per call on the hot path.
#pragma once

#include <cerrno>

namespace gev::monkey::detail {

inline constexpr int kProbeFd = -0x6765;       // read: EBADF; poll: ignored
inline constexpr long kProbeNsec = -0x6765;    // nanosleep: EINVAL
extern const char kProbeHost[];                // getaddrinfo: EAI_NONAME
inline constexpr unsigned kProbeAll = 15;
extern constinit thread_local unsigned t_probe_hits;

inline void probe_hit(unsigned part) noexcept { t_probe_hits |= part; }

}  // namespace gev::monkey::detail
