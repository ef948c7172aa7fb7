// runtime/threadpool.cpp — the per-hub worker pool: a locked FIFO of jobs, workers
// started on demand up to the size limit, completions posted back to the hub's inbox.
#include "runtime/threadpool.hpp"

#include "runtime/hub.hpp"
#include "runtime/threadpool_impl.hpp"

#include <atomic>

namespace gev {
namespace detail {
std::atomic<unsigned> g_pool_size{8};
}
void set_threadpool_size(unsigned n) { detail::g_pool_size.store(n == 0 ? 1 : n, std::memory_order_relaxed); }
}  // namespace gev

namespace gev::detail {

namespace {
// On the hub's thread: the job is done; its fiber may go on.
void finish(void* arg, std::uint64_t) {
    auto* job = static_cast<Job*>(arg);
    job->finished = true;
    job->hub->release();
    if (job->fiber->state == FiberState::parked) Hub::wake(job->fiber, job->fiber->epoch);
}
}  // namespace

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
}

void ThreadPool::submit(Job* job) {
    std::lock_guard lock(mu_);
    queue_.push_back(job);
    if (idle_ == 0 && threads_.size() < g_pool_size.load(std::memory_order_relaxed))
        threads_.emplace_back([this] { work(); });
    else
        cv_.notify_one();
}

std::size_t ThreadPool::queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
}

std::size_t ThreadPool::threads() const {
    std::lock_guard lock(mu_);
    return threads_.size();
}

void ThreadPool::work() {
    std::unique_lock lock(mu_);
    for (;;) {
        ++idle_;
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (queue_.empty()) return;
        Job* job = queue_.front();
        queue_.pop_front();
        lock.unlock();
        (*job->fn)();
        job->hub->post(&finish, job, 0);
        lock.lock();
    }
}

void run_job(const std::function<void()>& fn) {
    Hub* hub = Hub::current();
    if (hub == nullptr) {
        fn();
        return;
    }
    Job job{&fn, hub, current_fiber()};
    hub->hold();   // a worker will wake us: no LoopExit meanwhile
    hub->threadpool().submit(&job);
    while (!job.finished) hub->park(WaitReason{WaitKind::object, "run_in_thread", &job}, -1, false);
    Hub::raise_pending(job.fiber);
}

}  // namespace gev::detail
