#include "support.hpp"
using namespace std::chrono_literals;
TEST_CASE("smoke: spawn, sleep, join", "[smoke]") {
    std::vector<int> order;
    gev::testing::run([&] {
        auto a = gev::spawn([&] { order.push_back(1); gev::sleep(20ms); order.push_back(3); return 7; });
        auto b = gev::spawn([&] { order.push_back(2); gev::sleep(10ms); order.push_back(4); });
        gev::joinall({a, b});
        REQUIRE(a.get() == 7);
    });
    REQUIRE(order == std::vector<int>{1, 2, 4, 3});
}
