// runtime/threadpool.hpp — gevent's hub.threadpool: a few OS threads per hub for the
// blocking calls a fiber cannot avoid (getaddrinfo, a blocking library call). The
// calling fiber parks until a worker has run the job; nothing else on its hub stops.
// A fiber killed while its job runs waits for the job to finish (the job may refer to
// its stack) and then raises the kill.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace gev {

namespace detail {
// Runs job on the current hub's pool and parks until it is done.
void run_job(const std::function<void()>& job);
}  // namespace detail

// Runs f() on a worker thread and returns its result (or rethrows its exception),
// parking only the calling fiber. Outside gev::run, runs f() right here.
template <class F>
auto run_in_thread(F&& f) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
        detail::run_job([&] {
            try {
                f();
            } catch (...) {
                error = std::current_exception();
            }
        });
        if (error) std::rethrow_exception(error);
    } else {
        std::optional<R> result;
        detail::run_job([&] {
            try {
                result.emplace(f());
            } catch (...) {
                error = std::current_exception();
            }
        });
        if (error) std::rethrow_exception(error);
        return std::move(*result);
    }
}

// Worker threads each hub's pool may start (default 8); applies to pools made later.
void set_threadpool_size(unsigned n);

}  // namespace gev
