// fuzz/reader_fuzz.cpp — net::Reader's readline / read_until / read / read_exactly on
// a stream cut into arbitrary pieces. Input: [op seed][delimiter length 1-4][delimiter]
// [max lo][max hi][piece seed][piece size][payload...]. Checks: the pieces returned,
// joined, are exactly the payload; none is longer than max; a line ends at the first
// delimiter or is max long or is the last one before the end of the stream.
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gev::fuzz::quiet_runtime();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gev::fuzz::Input in(data, size);
    std::uint8_t ops = in.byte();
    std::string delim;
    for (int n = 1 + in.byte() % 4; n > 0; --n) delim += static_cast<char>(in.byte());
    std::size_t max = 1 + (in.byte() | (in.byte() << 8)) % 2048;
    std::uint8_t seed = in.byte();
    std::size_t piece = 1 + in.byte() % 64;
    std::string payload(in.rest());

    gev::run([&] {
        gev::fuzz::FedSocket s(payload, seed, piece);
        gev::net::Reader reader(s.near, 1 + seed % 128);
        std::string joined;
        std::uint32_t x = ops;
        for (;;) {
            x = x * 1103515245u + 12345u;
            std::string got;
            int op = (x >> 16) % 4;
            if (op == 0) {
                got = reader.read_until(delim, max);
                std::size_t first = got.find(delim);
                bool at_end = first != std::string::npos && first + delim.size() == got.size();
                if (!got.empty() && !at_end && got.size() != max && reader.buffered().size() != 0) std::abort();
                if (first != std::string::npos && !at_end) std::abort();   // stopped past a delimiter
            } else if (op == 1) {
                got = reader.readline(max);
                std::size_t nl = got.find('\n');
                if (nl != std::string::npos && nl + 1 != got.size()) std::abort();
            } else if (op == 2) {
                got = reader.read(max);
            } else {
                try {
                    got = reader.read_exactly(1 + x % 32);
                } catch (const gev::net::IncompleteRead& e) {
                    got = e.partial();
                }
            }
            if (got.size() > max && op != 3) std::abort();
            if (got.empty()) break;
            joined += got;
        }
        if (joined != payload) std::abort();
    });
    return 0;
}
