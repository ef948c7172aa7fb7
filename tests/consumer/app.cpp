// tests/consumer/app.cpp — a program as a gev user writes it, built by run.sh against an
// installed gev (pkg-config, CMake find_package) and against gev as a meson subproject,
// always with -Wall -Wextra -Werror. It proves the headers, both libraries and the
// monkey patching work from outside the tree: a patched usleep parks only its fiber.
#include <gev.hpp>
#include <monkey/monkey.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

std::string nested_hello();   // nested.cpp

int main() {
    return gev::run([] {
        gev::monkey::patch_time();
        std::string order;
        auto sleeper = gev::spawn([&order] {
            order += "a<";
            ::usleep(20'000);   // patched: the other fiber runs meanwhile
            order += ">a";
        });
        auto other = gev::spawn([&order] { order += "b"; });
        gev::joinall({sleeper, other});
        std::string nested = nested_hello();
        std::printf("consumer: order=%s nested=%s\n", order.c_str(), nested.c_str());
        return order == "a<b>a" && nested == "nested:patched" ? 0 : 1;
    });
}
