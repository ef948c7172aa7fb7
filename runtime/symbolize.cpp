// runtime/symbolize.cpp — code addresses as file:line through libdw (elfutils), else as
// symbol+offset through dladdr. One process-wide libdw session behind a mutex, opened
// on first use and reopened once when an address lies in no module it knows (a library
// loaded since). Debug information is read only from the modules themselves: no
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

// Whether an inlined call's function lives in namespace gev (its mangled name says so).
bool inlines_gev(Dwarf_Die* scope) {
    Dwarf_Attribute attr;
    const char* linkage = nullptr;
    if (dwarf_attr_integrate(scope, DW_AT_linkage_name, &attr) != nullptr) linkage = dwarf_formstring(&attr);
    return linkage != nullptr && std::string_view(linkage).starts_with("_ZN3gev");
}

// Walks out of gev's inlined functions: each one's call site becomes the location.
void step_out_of_gev(Dwfl_Module* mod, Dwarf_Addr addr, SourceLine& where) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, &bias);
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    if (cu == nullptr || dwarf_getsrcfiles(cu, &files, &nfiles) != 0) return;
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, addr - bias, &scopes);
    for (int i = 0; i < n; ++i) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_lexical_block || tag == DW_TAG_try_block || tag == DW_TAG_catch_block) continue;
        if (tag != DW_TAG_inlined_subroutine || !inlines_gev(&scopes[i])) break;
        Dwarf_Attribute attr;
        Dwarf_Word file = 0, line = 0;
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &file) != 0 ||
            dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &line) != 0)
            break;
        const char* name = dwarf_filesrc(files, file, nullptr, nullptr);
        if (name == nullptr) break;
        where = SourceLine{name, static_cast<int>(line)};
    }
    std::free(scopes);
}

class Session {
public:
    ~Session() {
        if (dwfl_ != nullptr) dwfl_end(dwfl_);
    }

    std::string describe(const void* return_address) {
        std::lock_guard lock(mu_);
        Dwarf_Addr addr = reinterpret_cast<std::uintptr_t>(return_address) - 1;   // the call itself
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

private:
    bool open() {
        if (dwfl_ != nullptr) dwfl_end(dwfl_);
        dwfl_ = dwfl_begin(&callbacks_);
        if (dwfl_ == nullptr) return false;
        if (dwfl_linux_proc_report(dwfl_, ::getpid()) != 0 || dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
            dwfl_end(dwfl_);
            dwfl_ = nullptr;
        }
        return dwfl_ != nullptr;
    }

    std::mutex mu_;
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
