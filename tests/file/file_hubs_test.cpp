// tests/file/file_hubs_test.cpp — file ops from several hubs at once: a file's fd is
// not claimed by any hub, so fibers on two hubs may share it (the 'threads' suite: TSan).
#include "file/file.hpp"
#include "file/file_ops.hpp"
#include "file_support.hpp"

#include <string>

using gev::File;
using gev::testing::TempDir;

TEST_CASE("two hubs copy files at once and share one fd for preads", "[file][hubs]") {
    TempDir dir;
    std::string data;
    for (int i = 0; data.size() < (2 << 20); ++i) data += std::to_string(i) + '\n';
    gev::testing::put_file(dir / "src", data);
    gev::run([&] {
        File shared = File::open(dir / "src");
        int fd = shared.fileno();
        auto copy = [&](int hub) {
            return gev::spawn_on(hub, [&, hub] {
                std::string out = dir / ("dst" + std::to_string(hub));
                File in = File::open(dir / "src");
                File o = File::open(out, "w");
                std::size_t lines = 0;
                for (const std::string& line : in.lines()) {
                    o.write(line);
                    ++lines;
                }
                o.close();
                std::string buf(4096, '\0');   // the shared fd, from this hub
                bool same = true;
                for (off_t at = 0; at < static_cast<off_t>(data.size()); at += 65536) {
                    ssize_t n = gev::detail::file_pread(fd, buf.data(), buf.size(), at);
                    same = same && n > 0 && data.compare(static_cast<std::size_t>(at), static_cast<std::size_t>(n), buf.data(), static_cast<std::size_t>(n)) == 0;
                }
                return same ? lines : 0;
            });
        };
        auto a = copy(0);
        auto b = copy(1);
        std::size_t la = a.get(), lb = b.get();
        CHECK(la > 0);
        CHECK(la == lb);
    }, gev::testing::hubs(2));
    CHECK(gev::testing::get_file(dir / "dst0") == data);
    CHECK(gev::testing::get_file(dir / "dst1") == data);
}
