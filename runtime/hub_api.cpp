// runtime/hub_api.cpp — hub_api.hpp's calls, each the Hub member it stands for.
#include "runtime/hub_api.hpp"

#include "runtime/hub.hpp"

namespace gev::detail {

Hub& require_hub(const char* op) { return Hub::require(op); }
std::int64_t hub_deadline_after(Hub& hub, Duration d) noexcept { return hub.deadline_after(d); }
bool wake_fiber(Fiber* f, std::uint64_t epoch) noexcept { return Hub::wake(f, epoch); }
bool claim_wake(Fiber* f, std::uint64_t epoch, OwedWakes& owed) noexcept { return Hub::claim(f, epoch, owed); }
void deliver_wakes(OwedWakes& owed) noexcept { Hub::deliver(owed); }
void raise_pending_slow(Fiber* self) { Hub::raise_pending(self); }

}  // namespace gev::detail
