// http/debug.cpp — the debug page's routes. libgev cannot depend on libgev_monkey (it
// links libgev), so the monkey page reaches it through weak references: they resolve
// when libgev_monkey is loaded into the process, and are null when it is not.
#include "http/debug.hpp"

#include "monkey/monkey.hpp"
#include "runtime/debug.hpp"
#include "runtime/stats.hpp"

#include <utility>

namespace gev::monkey {
[[gnu::weak]] bool is_patched(Patch what) noexcept;
[[gnu::weak]] bool hooks_active() noexcept;
[[gnu::weak]] bool poison_on_interrupt() noexcept;
}  // namespace gev::monkey

namespace gev::http {
namespace {

std::string_view trim_slash(std::string_view p) noexcept {
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    return p;
}

std::string index_page(const std::string& prefix) {
    std::string out = "<!DOCTYPE html>\n<html><head><title>gev debug</title></head><body>\n<h1>gev debug</h1>\n<ul>\n";
    const char* pages[][2] = {{"fibers", "every fiber of every hub (as SIGQUIT prints it)"},
                              {"stats", "gev::stats() of every hub, as JSON"},
                              {"monkey", "the monkey-patch state"}};
    for (const auto& p : pages)
        out += "<li><a href=\"" + prefix + "/" + p[0] + "\">" + p[0] + "</a>: " + p[1] + "</li>\n";
    return out + "</ul>\n</body></html>\n";
}

void answer(Response& res, int status, std::string_view type, std::string_view body) {
    res.set_status(status);
    res.add_header("Content-Type", type);
    res.add_header("Cache-Control", "no-store");
    res.send(body);
}

}  // namespace

bool is_debug_path(std::string_view path, std::string_view prefix) noexcept {
    prefix = trim_slash(prefix);
    if (path.substr(0, prefix.size()) != prefix) return false;
    return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string monkey_state() {
    using gev::monkey::Patch;
    bool (*patched_fn)(Patch) noexcept = &gev::monkey::is_patched;
    if (&gev::monkey::hooks_active == nullptr || patched_fn == nullptr || &gev::monkey::poison_on_interrupt == nullptr)
        return "monkey: not loaded (libgev_monkey is not part of this process)\n";
    std::string patched;
    const std::pair<Patch, const char*> parts[] = {{Patch::socket, "socket"}, {Patch::time, "time"},
                                                   {Patch::select, "select"}, {Patch::dns, "dns"},
                                                   {Patch::subprocess, "subprocess"}, {Patch::file, "file"}};
    for (const auto& [part, name] : parts) {
        if (!patched_fn(part)) continue;
        if (!patched.empty()) patched += ' ';
        patched += name;
    }
    return std::string("monkey: loaded\n") + "hooks active: " + (gev::monkey::hooks_active() ? "yes" : "no") +
           "\npatched: " + (patched.empty() ? "none" : patched) +
           "\npoison on interrupt: " + (gev::monkey::poison_on_interrupt() ? "yes" : "no") + "\n";
}

Handler debug_handler(std::string prefix) {
    prefix = std::string(trim_slash(prefix));
    return [prefix](Request& req, Response& res) {
        std::string_view path = req.path();
        if (!is_debug_path(path, prefix)) return answer(res, 404, "text/plain", "Not Found\n");
        std::string_view page = trim_slash(path.substr(prefix.size()));
        bool known = page.empty() || page == "/fibers" || page == "/stats" || page == "/monkey";
        if (!known) return answer(res, 404, "text/plain", "Not Found\n");
        if (req.method() != "GET" && req.method() != "HEAD") {
            res.add_header("Allow", "GET, HEAD");
            return answer(res, 405, "text/plain", "Method Not Allowed\n");
        }
        if (page.empty()) return answer(res, 200, "text/html; charset=utf-8", index_page(prefix));
        if (page == "/fibers") return answer(res, 200, "text/plain; charset=utf-8", format_run_info());
        if (page == "/stats") return answer(res, 200, "application/json", stats_json(stats()));
        answer(res, 200, "text/plain; charset=utf-8", monkey_state());
    };
}

}  // namespace gev::http
