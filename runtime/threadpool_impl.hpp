// runtime/threadpool_impl.hpp — the per-hub worker pool behind run_in_thread (internal).
// Workers take jobs from a locked FIFO and post each completion to the hub's inbox.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gev::detail {

class Hub;
class Fiber;

struct Job {
    const std::function<void()>* fn;
    Hub* hub;
    Fiber* fiber;
    bool finished = false;   // set on the hub's thread
};

class ThreadPool {
public:
    ThreadPool() = default;
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool();   // joins the workers (each finishes its job first)
    void submit(Job* job);
    // For gev::stats: jobs waiting for a worker, and workers started.
    std::size_t queued() const;
    std::size_t threads() const;

private:
    void work();
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job*> queue_;
    std::vector<std::thread> threads_;
    unsigned idle_ = 0;
    bool stopping_ = false;
};

}  // namespace gev::detail
