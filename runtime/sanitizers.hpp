// runtime/sanitizers.hpp — GEV_ASAN and GEV_TSAN: 1 when this translation unit is built
// with AddressSanitizer or ThreadSanitizer, by GCC (__SANITIZE_*__) or by clang before
// 16 (which has only __has_feature; the fuzz build is clang's). Fiber switches must
// carry the sanitizers' annotations in either compiler's build.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define GEV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GEV_ASAN 1
#endif
#endif
#ifndef GEV_ASAN
#define GEV_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define GEV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GEV_TSAN 1
#endif
#endif
#ifndef GEV_TSAN
#define GEV_TSAN 0
#endif
