// http/date.cpp — the Date header's value, formatted at most once a second on each
// thread (so per hub): every response of that second shares the cached text.
#include "http/conn.hpp"

#include <ctime>

namespace gev::http::detail {

std::string_view http_date() noexcept {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    thread_local std::time_t cached_second = -1;
    thread_local char text[32];
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm tm{};
        ::gmtime_r(&now, &tm);
        std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_second = now;
    }
    return {text, 29};
}

}  // namespace gev::http::detail
