// runtime/stack_pool.hpp — fiber stacks: mapped in chunks, reused LIFO, one pool per thread.
// A stack is handed out with a PROT_NONE guard page below it while the process-wide
// guard budget lasts (each guard costs two of vm.max_map_count's mappings); past the
// budget, stacks come unguarded from single-mapping chunks; the fiber's stack pointer is
// then checked against the stack's bounds every time it switches out (no extra page
// is touched for it, so an idle fiber costs one page of stack). Released stacks stay
// mapped; past the cache limit the oldest idle ones give their pages back to the kernel
// (madvise), so a spike of fibers does not stay resident, and steady churn maps nothing.
// Owned by the thread's state; only that thread touches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gev::detail {

struct Stack {
    char* base = nullptr;     // lowest usable byte; the guard page (if any) lies below it
    std::size_t size = 0;     // usable bytes
    bool guarded = false;
    char* top() const noexcept { return base + size; }
};

// Below this many bytes left, a switch-out is treated as an overflow.
inline constexpr std::size_t kStackRedZone = 256;

class StackPool {
public:
    StackPool() = default;
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;
    ~StackPool();

    // A stack of at least `size` usable bytes (0: the default). Never blocks;
    // throws std::system_error (ENOMEM) when the address space or map count is exhausted.
    Stack acquire(std::size_t size);
    // Gives a stack back for reuse; its pages stay mapped and warm while this size
    // class holds at most stack_cache_limit() warm idle stacks. Past that, the oldest
    // idle ones (down to half the limit) give their pages back: one madvise per run of
    // adjacent stacks, so a spike's end costs few system calls.
    void release(const Stack& s) noexcept;
    // Stacks handed out and not yet released.
    std::size_t in_use() const noexcept { return in_use_; }
    // Released stacks kept for reuse, and those of them whose pages may still be resident.
    std::size_t idle() const noexcept;
    std::size_t idle_warm() const noexcept;
    // Virtual bytes mapped for stacks (guard pages included); grows only when no idle
    // stack of the size asked for is left.
    std::size_t mapped_bytes() const noexcept { return mapped_bytes_; }
    // Stack bytes given back to the kernel so far (whole usable sizes, whether or not
    // every page was resident), and how many madvise calls that took.
    std::size_t released_bytes() const noexcept { return released_bytes_; }
    std::size_t release_calls() const noexcept { return release_calls_; }

private:
    struct Chunk { char* base; std::size_t bytes; };
    struct SizeClass {
        std::size_t size;                // usable bytes per stack
        std::vector<Stack> free;         // released stacks, reused last-in first-out
        std::size_t cold = 0;            // free[0, cold) have had their pages released
        char* carve = nullptr;           // next never-used slot of the newest chunk
        std::size_t carve_left = 0;
        bool carve_guarded = false;
    };
    // The class of `size`; the first one made (nearly always the default size) inline.
    SizeClass& size_class(std::size_t size) {
        if (!classes_.empty() && classes_.front().size == size) [[likely]] return classes_.front();
        return other_size_class(size);
    }
    SizeClass& other_size_class(std::size_t size);
    void map_chunk(SizeClass& c);
    void trim(SizeClass& c, std::size_t keep_warm) noexcept;

    std::vector<SizeClass> classes_;
    std::vector<Chunk> chunks_;
    std::size_t in_use_ = 0;
    std::size_t mapped_bytes_ = 0;
    std::size_t released_bytes_ = 0;
    std::size_t release_calls_ = 0;
};

// Rounds to whole pages; 0 means the process default.
std::size_t normalize_stack_size(std::size_t size) noexcept;

}  // namespace gev::detail

namespace gev {
// Usable stack bytes for fibers spawned without an explicit size (default 128 KiB,
// 512 KiB under AddressSanitizer). Applies to stacks acquired after the call.
void set_default_stack_size(std::size_t bytes);
std::size_t default_stack_size() noexcept;
// How many stacks, process-wide, may still receive a guard page.
std::size_t stack_guard_budget() noexcept;
// Idle stacks each thread keeps warm per stack size (default 1024): beyond it, ending
// fibers give the pages of the oldest idle stacks back to the kernel, keeping half.
// 0 gives every stack's pages back as its fiber ends. Applies from the next release.
void set_stack_cache_limit(std::size_t stacks) noexcept;
std::size_t stack_cache_limit() noexcept;
}  // namespace gev
