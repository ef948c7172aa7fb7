// runtime/raw_greenlet.hpp — greenlet's explicit switching, without the hub.
// A RawGreenlet runs its function the first time something switches to it; switch_to
// passes a value and returns whatever the next switch back passes. When the function
// returns, its result goes to the parent (the creator, unless changed); an exception
// escaping it is raised in the parent. Dropping the last handle to a suspended
// greenlet raises GreenletExit inside it, so the destructors on its stack run.
// Greenlets live on one thread; inside gev::run they may also park in the hub.
#pragma once

#include "runtime/fiber.hpp"

#include <any>
#include <concepts>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace gev {

class RawGreenlet;

namespace detail {
template <class F>
class RawTask final : public Fiber {
public:
    template <class G>
    explicit RawTask(G&& fn) : Fiber(FiberKind::raw, 1), fn_(std::in_place, std::forward<G>(fn)) {}
    void invoke() override {
        DropOnExit<F> drop{fn_};   // even when it throws
        std::any arg = std::move(greenlet.transfer);
        greenlet.transfer.reset();
        if constexpr (std::is_invocable_v<F&, std::any>) {
            using R = std::invoke_result_t<F&, std::any>;
            if constexpr (std::is_void_v<R>) (*fn_)(std::move(arg));
            else greenlet.transfer = std::any((*fn_)(std::move(arg)));
        } else {
            using R = std::invoke_result_t<F&>;
            if constexpr (std::is_void_v<R>) (*fn_)();
            else greenlet.transfer = std::any((*fn_)());
        }
    }
    void drop_function() noexcept override { fn_.reset(); }

private:
    std::optional<F> fn_;
};
[[gnu::tls_model("initial-exec")]] extern constinit thread_local Hub* t_hub;
void adopt_raw(Fiber* f, Fiber* parent);
// Every switch that is not the plain one below: first runs, dead targets, exceptions.
std::any switch_slow(Fiber* self, Fiber* target, std::any value, std::exception_ptr exception);
// The common switch: back into a greenlet of this thread that switched away, with no
// exception (throw_in goes the slow way); the first nothing, the second a value.
// Out of line, so that the switch itself inlines there (runtime/fiber_switch.hpp).
std::any switch_into(Fiber* target);
std::any switch_into(Fiber* target, std::any&& value);
void release_raw(Fiber* f) noexcept;
void set_raw_parent(Fiber* f, Fiber* parent);
Fiber* adopt_current() noexcept;
}  // namespace detail

class RawGreenlet {
public:
    RawGreenlet() noexcept = default;
    // `run` takes nothing or a std::any (the first switch's value) and returns
    // nothing or a value (delivered to the parent). The parent is the current fiber.
    template <class F>
        requires(std::invocable<std::decay_t<F>&> || std::invocable<std::decay_t<F>&, std::any>)
    explicit RawGreenlet(F&& run) : f_(new detail::RawTask<std::decay_t<F>>(std::forward<F>(run))) {
        detail::adopt_raw(f_, nullptr);
    }
    template <class F>
        requires(std::invocable<std::decay_t<F>&> || std::invocable<std::decay_t<F>&, std::any>)
    RawGreenlet(F&& run, const RawGreenlet& parent)
        : f_(new detail::RawTask<std::decay_t<F>>(std::forward<F>(run))) {
        detail::adopt_raw(f_, parent.f_);
    }
    RawGreenlet(const RawGreenlet& o) noexcept : f_(o.f_) { hold(); }
    RawGreenlet(RawGreenlet&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
    RawGreenlet& operator=(RawGreenlet o) noexcept {
        std::swap(f_, o.f_);
        return *this;
    }
    ~RawGreenlet() {
        if (f_) detail::release_raw(f_);
    }

    // greenlet's switch(): runs this greenlet until something switches back; returns
    // the value passed then. Switching to a dead greenlet switches to its parent.
    // Without an argument nothing is handed over (the cheapest switch).
    std::any switch_to() const { return detail::switch_into(f_); }
    std::any switch_to(std::any value) const { return detail::switch_into(f_, std::move(value)); }
    // greenlet's throw(): raises `exception` (GreenletExit if null) inside it.
    std::any throw_in(std::exception_ptr exception = nullptr) const;

    bool dead() const noexcept { return f_->state == detail::FiberState::dead; }
    bool started() const noexcept { return f_->ctx != nullptr || f_->kind == detail::FiberKind::root || dead(); }
    // Started and not dead (greenlet's bool()).
    explicit operator bool() const noexcept { return f_ != nullptr && started() && !dead(); }
    std::uint64_t id() const noexcept { return f_->id; }
    RawGreenlet parent() const;
    // Rejects a parent chain that would loop back to this greenlet.
    void set_parent(const RawGreenlet& p) const { detail::set_raw_parent(f_, p.f_); }
    friend bool operator==(const RawGreenlet& a, const RawGreenlet& b) noexcept { return a.f_ == b.f_; }

    // Adopts a reference (used by getcurrent).
    explicit RawGreenlet(detail::Fiber* f) noexcept : f_(f) {}

private:
    void hold() noexcept {
        if (f_) {
            f_->ref();
            ++f_->handles;
        }
    }
    detail::Fiber* f_ = nullptr;
};

// The greenlet (fiber) running now; on a thread without fibers, its main greenlet.
RawGreenlet getcurrent();

}  // namespace gev
