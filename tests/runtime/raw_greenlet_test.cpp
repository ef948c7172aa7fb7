// tests/runtime/raw_greenlet_test.cpp — greenlet's explicit switching: the classic demo,
// values through switch_to, throw_in, exceptions and results going to the parent,
// parents and cycles, dead targets, dropping the last handle, getcurrent, bool(), and
// greenlets that park in the hub inside gev::run.
#include "support.hpp"

#include <any>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

struct SetOnDestroy {
    bool& flag;
    ~SetOnDestroy() { flag = true; }
};

}  // namespace

TEST_CASE("a greenlet that ends returns to its parent, not to the greenlet that switched to it",
          "[runtime][greenlet]") {
    std::vector<int> trace;
    gev::RawGreenlet gr2, gr1;
    gr1 = gev::RawGreenlet([&] {
        trace.push_back(12);
        gr2.switch_to();
        trace.push_back(34);
        gr2.switch_to();
        trace.push_back(-1);   // never: gr2 ends and control goes to its parent
    });
    gr2 = gev::RawGreenlet([&] {
        trace.push_back(56);
        gr1.switch_to();
        trace.push_back(78);
    });
    gr1.switch_to();
    REQUIRE(trace == std::vector<int>{12, 56, 34, 78});
    REQUIRE_FALSE(gr1.dead());
    REQUIRE(static_cast<bool>(gr1));
    REQUIRE(gr2.dead());
}

TEST_CASE("switch_to passes a value in and returns the value passed back", "[runtime][greenlet]") {
    gev::RawGreenlet g([](std::any first) {
        int x = std::any_cast<int>(first);
        std::any back = gev::getcurrent().parent().switch_to(x + 1);
        return std::any_cast<int>(back) * 10;
    });
    std::any r1 = g.switch_to(5);
    REQUIRE(std::any_cast<int>(r1) == 6);
    REQUIRE_FALSE(g.dead());
    std::any r2 = g.switch_to(7);   // its return value is delivered here
    REQUIRE(std::any_cast<int>(r2) == 70);
    REQUIRE(g.dead());
}

TEST_CASE("throw_in raises the exception inside the greenlet", "[runtime][greenlet]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    gev::RawGreenlet g([&]() -> std::string {
        try {
            main_g.switch_to();
        } catch (const std::runtime_error& e) {
            return std::string("caught ") + e.what();
        }
        return "nothing was thrown";
    });
    g.switch_to();
    std::any r = g.throw_in(std::make_exception_ptr(std::runtime_error("in")));
    REQUIRE(std::any_cast<std::string>(r) == "caught in");
    REQUIRE(g.dead());
}

TEST_CASE("throw_in on a greenlet that never started kills it and raises in the parent", "[runtime][greenlet]") {
    bool ran = false;
    gev::RawGreenlet g([&] { ran = true; });
    REQUIRE_THROWS_WITH(g.throw_in(std::make_exception_ptr(std::runtime_error("early"))), "early");
    REQUIRE(g.dead());
    REQUIRE_FALSE(ran);
}

TEST_CASE("an exception escaping a greenlet is raised in its parent", "[runtime][greenlet]") {
    gev::RawGreenlet g([] { throw std::runtime_error("out"); });
    REQUIRE_THROWS_WITH(g.switch_to(), "out");
    REQUIRE(g.dead());
}

TEST_CASE("GreenletExit escaping a greenlet gives the parent an empty value", "[runtime][greenlet]") {
    gev::RawGreenlet thrower([]() -> int { throw gev::GreenletExit{}; });
    std::any r;
    REQUIRE_NOTHROW(r = thrower.switch_to());
    REQUIRE_FALSE(r.has_value());
    REQUIRE(thrower.dead());

    bool destroyed = false;
    gev::RawGreenlet main_g = gev::getcurrent();
    gev::RawGreenlet waiting([&] {
        SetOnDestroy guard{destroyed};
        main_g.switch_to();
        return 1;
    });
    waiting.switch_to();
    std::any r2 = waiting.throw_in();   // GreenletExit by default
    REQUIRE_FALSE(r2.has_value());
    REQUIRE(waiting.dead());
    REQUIRE(destroyed);
}

TEST_CASE("a greenlet's parent is its creator until set_parent changes it", "[runtime][greenlet]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    gev::RawGreenlet child;
    gev::RawGreenlet creator([&] { child = gev::RawGreenlet([] { return 1; }); });
    REQUIRE(creator.parent() == main_g);
    creator.switch_to();
    REQUIRE(child.parent() == creator);

    std::vector<std::string> trace;
    gev::RawGreenlet p([&] {
        std::any got = main_g.switch_to();
        trace.push_back("p got " + std::any_cast<std::string>(got));
        return std::string("p done");
    });
    p.switch_to();
    gev::RawGreenlet c([] { return std::string("from c"); });
    c.set_parent(p);
    REQUIRE(c.parent() == p);
    std::any r = c.switch_to();   // c's result goes to p; p's result comes here
    REQUIRE(trace == std::vector<std::string>{"p got from c"});
    REQUIRE(std::any_cast<std::string>(r) == "p done");
}

// greenlet's rule: a parent that never ran is started with its child's result.
TEST_CASE("a greenlet whose parent never started starts that parent with its result",
          "[runtime][greenlet]") {
    int received = 0;
    gev::RawGreenlet receiver([&](std::any v) {
        received = std::any_cast<int>(v);
        return received * 2;
    });
    gev::RawGreenlet child([] { return 5; }, receiver);
    REQUIRE(child.parent() == receiver);
    std::any r = child.switch_to();
    REQUIRE(received == 5);
    REQUIRE(std::any_cast<int>(r) == 10);
    REQUIRE(receiver.dead());
}

TEST_CASE("set_parent rejects a cycle", "[runtime][greenlet]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    gev::RawGreenlet a([] {});
    gev::RawGreenlet b([] {});
    b.set_parent(a);
    REQUIRE_THROWS_AS(a.set_parent(b), std::system_error);
    REQUIRE_THROWS_AS(a.set_parent(a), std::system_error);
    REQUIRE(a.parent() == main_g);
    REQUIRE(b.parent() == a);
}

TEST_CASE("switching to a dead greenlet switches to its parent", "[runtime][greenlet]") {
    gev::RawGreenlet finished([] {});
    finished.switch_to();
    REQUIRE(finished.dead());
    gev::RawGreenlet h([&] {
        std::any back = finished.switch_to(5);   // lands in finished's parent: this test's main
        return std::any_cast<int>(back) + 1;
    });
    std::any first = h.switch_to();
    REQUIRE(std::any_cast<int>(first) == 5);
    std::any second = h.switch_to(9);
    REQUIRE(std::any_cast<int>(second) == 10);
}

TEST_CASE("dropping the last handle to a suspended greenlet raises GreenletExit inside it",
          "[runtime][greenlet]") {
    bool destroyed = false, got_exit = false;
    gev::RawGreenlet main_g = gev::getcurrent();
    {
        gev::RawGreenlet g([&] {
            SetOnDestroy guard{destroyed};
            try {
                main_g.switch_to();
            } catch (const gev::GreenletExit&) {
                got_exit = true;
                throw;
            }
        });
        g.switch_to();
        gev::RawGreenlet copy = g;   // a second handle: dropping it must not end g
        copy = gev::RawGreenlet();
        REQUIRE_FALSE(got_exit);
        REQUIRE_FALSE(destroyed);
    }
    REQUIRE(got_exit);
    REQUIRE(destroyed);
}

TEST_CASE("getcurrent returns the greenlet that is running", "[runtime][greenlet]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    gev::RawGreenlet g;
    bool inside_is_g = false, inside_is_main = true;
    g = gev::RawGreenlet([&] {
        inside_is_g = gev::getcurrent() == g;
        inside_is_main = gev::getcurrent() == main_g;
    });
    g.switch_to();
    REQUIRE(inside_is_g);
    REQUIRE_FALSE(inside_is_main);
    REQUIRE(gev::getcurrent() == main_g);
    REQUIRE_FALSE(gev::getcurrent() == g);
}

TEST_CASE("a greenlet is false before it starts and after it dies", "[runtime][greenlet]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    gev::RawGreenlet g([&] { main_g.switch_to(); });
    REQUIRE_FALSE(static_cast<bool>(g));
    REQUIRE_FALSE(g.started());
    g.switch_to();
    REQUIRE(static_cast<bool>(g));
    g.switch_to();
    REQUIRE(g.dead());
    REQUIRE_FALSE(static_cast<bool>(g));
    REQUIRE_FALSE(static_cast<bool>(gev::RawGreenlet()));
}

TEST_CASE("a greenlet inside gev::run can sleep in the hub and then return to its parent",
          "[runtime][greenlet][hub]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto other = gev::spawn([&] { trace.push_back("other fiber"); });
        gev::RawGreenlet g([&] {
            trace.push_back("greenlet sleeps");
            gev::sleep(2ms);
            trace.push_back("greenlet woke");
            return 5;
        });
        std::any r = g.switch_to();
        trace.push_back("main got " + std::to_string(std::any_cast<int>(r)));
        REQUIRE(g.dead());
        other.join();
    });
    REQUIRE(trace ==
            std::vector<std::string>{"greenlet sleeps", "other fiber", "greenlet woke", "main got 5"});
}

TEST_CASE("greenlets switch among themselves inside a spawned fiber", "[runtime][greenlet][hub]") {
    std::vector<int> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([&] {
            gev::RawGreenlet me = gev::getcurrent();
            gev::RawGreenlet child([&](std::any v) {
                trace.push_back(std::any_cast<int>(v));
                std::any w = me.switch_to(2);
                trace.push_back(std::any_cast<int>(w));
                return 4;
            });
            trace.push_back(std::any_cast<int>(child.switch_to(1)));
            trace.push_back(std::any_cast<int>(child.switch_to(3)));
            return child.dead();
        });
        REQUIRE(g.get());
    });
    REQUIRE(trace == std::vector<int>{1, 2, 3, 4});
}
