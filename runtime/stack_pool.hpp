// runtime/stack_pool.hpp — fiber stacks: mapped in chunks, reused LIFO, one pool per thread.
// A stack is handed out with a PROT_NONE guard page below it while the process-wide
// guard budget lasts (each guard costs two of vm.max_map_count's mappings); past the
// budget, stacks come unguarded from single-mapping chunks; the fiber's stack pointer is
// then checked against the stack's bounds every time it switches out (no extra page
// is touched for it, so an idle fiber costs one page of stack).
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
    // Gives a stack back for reuse; its pages stay mapped and warm.
    void release(const Stack& s) noexcept;
    // Stacks handed out and not yet released.
    std::size_t in_use() const noexcept { return in_use_; }

private:
    struct Chunk { char* base; std::size_t bytes; };
    struct SizeClass {
        std::size_t size;                // usable bytes per stack
        std::vector<Stack> free;         // released stacks, reused last-in first-out
        char* carve = nullptr;           // next never-used slot of the newest chunk
        std::size_t carve_left = 0;
        bool carve_guarded = false;
    };
    SizeClass& size_class(std::size_t size);
    void map_chunk(SizeClass& c);

    std::vector<SizeClass> classes_;
    std::vector<Chunk> chunks_;
    std::size_t in_use_ = 0;
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
}  // namespace gev
