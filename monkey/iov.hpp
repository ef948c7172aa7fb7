// monkey/iov.hpp — resuming a vectored transfer after a partial one: a private copy of
// the caller's iovec array whose front moves past what was transferred (the caller's
// array is never written). Used by the writev/sendmsg and sendmmsg emulations.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <vector>

namespace gev::monkey::detail {

class IovCursor {
public:
    IovCursor(const iovec* v, int n) : v_(v, v + (n > 0 ? n : 0)) {}
    // Moves to byte `done` of the original sequence (monotonic).
    void seek(std::size_t done) {
        std::size_t step = done - at_;
        at_ = done;
        while (step > 0 && first_ < v_.size()) {
            iovec& f = v_[first_];
            std::size_t take = step < f.iov_len ? step : f.iov_len;
            f.iov_base = static_cast<char*>(f.iov_base) + take;
            f.iov_len -= take;
            step -= take;
            if (f.iov_len == 0) ++first_;
        }
    }
    iovec* data() { return v_.data() + first_; }
    int count() const { return static_cast<int>(v_.size() - first_); }

private:
    std::vector<iovec> v_;
    std::size_t first_ = 0;
    std::size_t at_ = 0;
};

inline std::size_t iov_total(const iovec* v, int n) {
    std::size_t t = 0;
    for (int i = 0; i < n; ++i) t += v[i].iov_len;
    return t;
}

}  // namespace gev::monkey::detail
