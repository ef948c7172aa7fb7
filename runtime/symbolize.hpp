// runtime/symbolize.hpp — a code address in words, for fiber dumps (debug.cpp). Internal.
#pragma once

#include <string>

namespace gev::detail {

// Where `return_address` (a call's return address, as __builtin_return_address gives)
// points in the source: "file.cpp:42 (function)" from the program's debug information
// when gev was built with libdw and the module has DWARF; gev's own inlined functions
// (gev::spawn and the like) are looked through to the line that called them. Otherwise
// "symbol+0x2a (module+0x4a1f2)" from the dynamic symbol table, "module+0x4a1f2" when
// even that is missing (`addr2line -Cfie module 0x4a1f1` finds it), or the bare address.
// Any thread; not async-signal-safe (it allocates and reads files).
std::string symbolize(const void* return_address);

// Whether symbolize can read debug information at all in this build (libdw was found).
bool symbolize_reads_debug_info() noexcept;

}  // namespace gev::detail
