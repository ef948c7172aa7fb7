// monkey/fd_desc.hpp — the store of open file descriptions behind fd_table: ids handed
// out from a lock-free free list (or the next unused slot), reference-counted by the
// fd numbers that point at them, returned to the list when the last one is closed.
// Used only by fd_table.cpp; any thread.
#pragma once

#include "monkey/fd_table.hpp"

#include <cstdint>

namespace gev::monkey::detail {

// A fresh description (fields zero, one reference); 0 when the store is full or
// memory ran out.
std::uint32_t desc_alloc() noexcept;
// One more fd number shares id; false if id was already released (refs reached 0).
bool desc_acquire(std::uint32_t id) noexcept;
// One fd number less; the last one returns id to the free list.
void desc_release(std::uint32_t id) noexcept;

// A chunk of kChunkSize T for slot `index` of `chunks`, made on first use; nullptr
// when memory ran out. Keeps errno.
template <class T>
T* chunk_for(std::atomic<T*>* chunks, std::uint32_t index) noexcept;

}  // namespace gev::monkey::detail
