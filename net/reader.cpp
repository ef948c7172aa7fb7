// net/reader.cpp — buffering for Reader.
#include "net/reader.hpp"

#include <algorithm>

namespace gev::net {

bool Reader::fill() {
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
    std::size_t old = buf_.size();
    buf_.resize(old + chunk_);
    std::size_t n = 0;
    try {
        n = recv_(stream_, std::span<char>(buf_).subspan(old));
    } catch (...) {   // a Timeout or kill: keep what was buffered, drop the empty room
        buf_.resize(old);
        throw;
    }
    buf_.resize(old + n);
    return n > 0;
}

std::string Reader::take(std::size_t n) {
    std::string out = buf_.substr(pos_, n);
    pos_ += n;
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    return out;
}

std::string Reader::read_until(std::string_view delim, std::size_t max) {
    if (delim.empty()) throw SocketError(EINVAL, "read_until: empty delimiter");
    if (max == 0) return {};
    std::size_t scanned = 0;   // where the delimiter search resumes
    for (;;) {
        std::string_view have = buffered();
        std::size_t from = scanned >= delim.size() ? scanned - delim.size() + 1 : 0;
        std::size_t at = have.find(delim, from);
        if (at != std::string_view::npos && at + delim.size() <= max) return take(at + delim.size());
        if (have.size() >= max) return take(max);
        scanned = have.size();
        if (!fill()) return take(std::min(buffered().size(), max));
    }
}

std::string Reader::read(std::size_t n) {
    if (n == 0) return {};
    if (buffered().empty() && !fill()) return {};
    return take(std::min(n, buffered().size()));
}

std::string Reader::read_exactly(std::size_t n) {
    while (buffered().size() < n)
        if (!fill()) throw IncompleteRead(take(buffered().size()), n, "read_exactly fd " + std::to_string(fileno_(stream_)));
    return take(n);
}

}  // namespace gev::net
