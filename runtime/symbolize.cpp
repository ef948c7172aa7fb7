// runtime/symbolize.cpp — code addresses as file:line through libdw (elfutils), else as
// symbol+offset through dladdr. One process-wide libdw session behind a mutex, opened
// on first use and reopened once when an address lies in no module it knows (a library
// loaded since); lookups run on a short-lived thread (libdw's stack use exceeds a
// fiber's) and are cached per address. Debug information is read only from the modules themselves: no
// separate debug files and never debuginfod, so a dump never waits on the network.
#include "runtime/symbolize.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#ifndef GEV_HAVE_LIBDW
#define GEV_HAVE_LIBDW 0
#endif
#if GEV_HAVE_LIBDW
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#endif

namespace gev::detail {
namespace {

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
    return status == 0 && out ? out.get() : name;
}

std::string hex(std::uintptr_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "+0x%zx", static_cast<std::size_t>(v));
    return buf;
}

std::string from_dynamic_symbols(const void* pc) {
    Dl_info info{};
    if (::dladdr(pc, &info) == 0 || info.dli_fname == nullptr) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%p", pc);
        return buf;
    }
    std::string module = info.dli_fname;
    if (auto slash = module.rfind('/'); slash != std::string::npos) module.erase(0, slash + 1);
    auto at = reinterpret_cast<std::uintptr_t>(pc);
    std::string where = module + hex(at - reinterpret_cast<std::uintptr_t>(info.dli_fbase));
    if (info.dli_sname == nullptr) return where;
    return demangle(info.dli_sname) + hex(at - reinterpret_cast<std::uintptr_t>(info.dli_saddr)) + " (" + where + ")";
}

#if GEV_HAVE_LIBDW

int no_separate_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word,
                          char**) {
    return -1;
}

struct SourceLine {
    std::string file;
    int line = 0;
};

// Whether an inlined call's function lives in namespace gev: its abstract origin (or the
// declaration that specifies it) has `gev` as its outermost namespace.
bool inlines_gev(Dwarf_Die* inlined) {
    Dwarf_Attribute attr;
    Dwarf_Die origin = *inlined, next;
    for (int hops = 0; hops < 8; ++hops) {
        if (dwarf_formref_die(dwarf_attr(&origin, DW_AT_abstract_origin, &attr), &next) == nullptr &&
            dwarf_formref_die(dwarf_attr(&origin, DW_AT_specification, &attr), &next) == nullptr)
            break;
        origin = next;
    }
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes_die(&origin, &scopes);
    bool gev = false;
    for (int i = 0; i < n; ++i)   // innermost first: the last namespace seen is the outermost
        if (dwarf_tag(&scopes[i]) == DW_TAG_namespace) {
            const char* name = dwarf_diename(&scopes[i]);
            gev = name != nullptr && std::string_view(name) == "gev";
        }
    std::free(scopes);
    return gev;
}

// The DIEs under `die` whose code holds pc, outermost first. dwarf_getscopes finds none
// for a lambda's body (GCC nests its DIE inside the enclosing function's, whose code does
// not hold pc), so the whole tree is searched (once per spawn site: results are cached).
bool scopes_at(Dwarf_Die* die, Dwarf_Addr pc, std::vector<Dwarf_Die>& path, int depth = 0) {
    Dwarf_Die child;
    if (depth > 64 || dwarf_child(die, &child) != 0) return false;
    do {
        if (dwarf_haspc(&child, pc) == 1) {
            path.push_back(child);
            scopes_at(&child, pc, path, depth + 1);
            return true;
        }
        if (dwarf_haschildren(&child) == 1 && scopes_at(&child, pc, path, depth + 1)) return true;
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

// Walks out of gev's inlined functions: each one's call site becomes the location.
void step_out_of_gev(Dwfl_Module* mod, Dwarf_Addr addr, SourceLine& where) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, &bias);
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    if (cu == nullptr || dwarf_getsrcfiles(cu, &files, &nfiles) != 0) return;
    std::vector<Dwarf_Die> path;
    scopes_at(cu, addr - bias, path);
    for (auto scope = path.rbegin(); scope != path.rend(); ++scope) {
        int tag = dwarf_tag(&*scope);
        if (tag == DW_TAG_lexical_block || tag == DW_TAG_try_block || tag == DW_TAG_catch_block) continue;
        if (tag != DW_TAG_inlined_subroutine || !inlines_gev(&*scope)) break;
        Dwarf_Attribute attr;
        Dwarf_Word file = 0, line = 0;
        if (dwarf_formudata(dwarf_attr(&*scope, DW_AT_call_file, &attr), &file) != 0 ||
            dwarf_formudata(dwarf_attr(&*scope, DW_AT_call_line, &attr), &line) != 0)
            break;
        const char* name = dwarf_filesrc(files, file, nullptr, nullptr);
        if (name == nullptr) break;
        where = SourceLine{name, static_cast<int>(line)};
    }
}

class Session {
public:
    ~Session() {
        if (dwfl_ != nullptr) dwfl_end(dwfl_);
    }

    std::string describe(const void* return_address) {
        std::lock_guard lock(mu_);
        auto key = reinterpret_cast<std::uintptr_t>(return_address);
        if (auto hit = cache_.find(key); hit != cache_.end()) return hit->second;
        // On a thread of its own: reading DWARF takes more stack than a fiber has.
        std::string text;
        std::exception_ptr failed;
        std::thread([&] {
            try {
                text = lookup(key);
            } catch (...) {
                failed = std::current_exception();
            }
        }).join();
        if (failed) std::rethrow_exception(failed);
        cache_.emplace(key, text);
        return text;
    }

private:
    // Many fibers share a spawn site, and a dump names each: one lookup per site.
    std::string lookup(std::uintptr_t return_address) {
        Dwarf_Addr addr = return_address - 1;   // the call itself
        if (dwfl_ == nullptr && !open()) return {};
        Dwfl_Module* mod = dwfl_addrmodule(dwfl_, addr);
        if (mod == nullptr && open()) mod = dwfl_addrmodule(dwfl_, addr);
        Dwfl_Line* entry = mod != nullptr ? dwfl_module_getsrc(mod, addr) : nullptr;
        SourceLine where;
        if (entry != nullptr)
            if (const char* file = dwfl_lineinfo(entry, nullptr, &where.line, nullptr, nullptr, nullptr))
                where.file = file;
        if (where.file.empty() || where.line <= 0) return {};
        step_out_of_gev(mod, addr, where);
        std::string out = std::filesystem::path(where.file).lexically_normal().string() + ":" +
                          std::to_string(where.line);
        if (const char* fn = dwfl_module_addrname(mod, addr)) out += " (" + demangle(fn) + ")";
        return out;
    }

    bool open() {
        if (dwfl_ != nullptr) dwfl_end(dwfl_);
        cache_.clear();
        dwfl_ = dwfl_begin(&callbacks_);
        if (dwfl_ == nullptr) return false;
        if (dwfl_linux_proc_report(dwfl_, ::getpid()) != 0 || dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
            dwfl_end(dwfl_);
            dwfl_ = nullptr;
        }
        return dwfl_ != nullptr;
    }

    std::mutex mu_;
    std::unordered_map<std::uintptr_t, std::string> cache_;
    Dwfl* dwfl_ = nullptr;
    char* debuginfo_path_ = nullptr;
    Dwfl_Callbacks callbacks_{dwfl_linux_proc_find_elf, no_separate_debuginfo, nullptr, &debuginfo_path_};
};

#endif

}  // namespace

std::string symbolize(const void* return_address) {
#if GEV_HAVE_LIBDW
    static Session session;
    std::string line;
    try {
        line = session.describe(return_address);
    } catch (const std::exception&) {
        line.clear();   // out of memory, or a path the filesystem library rejects
    }
    if (!line.empty()) return line;
#endif
    return from_dynamic_symbols(return_address);
}

bool symbolize_reads_debug_info() noexcept {
    return GEV_HAVE_LIBDW != 0;
}

}  // namespace gev::detail
