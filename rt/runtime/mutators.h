// mutators.h - threads other than the checkpointing one hold a
// checksync::mutator_guard while they touch persistent state; checkpoint()
// stops them (waits until no guard is held and holds new ones off) for the
// time it collects, so what it captures is a consistent cut.
#ifndef CHECKSYNC_RT_MUTATORS_H
#define CHECKSYNC_RT_MUTATORS_H

namespace checksync::detail::mutators {

void enter() noexcept; // mutator_guard's constructor
void leave() noexcept; // its destructor

// For checkpoint(), first: the calling thread's own guards are released for
// the call (re-entered after), so a thread that checkpoints from inside a
// guard neither blocks another checkpoint nor waits for itself.
class Suspend {
public:
  Suspend() noexcept;
  ~Suspend();
  Suspend(const Suspend &) = delete;
  Suspend &operator=(const Suspend &) = delete;

private:
  long held_;
};

// For checkpoint(): waits until no guard is held, and holds new ones off
// until the Stop is destroyed.
class Stop {
public:
  Stop();
  ~Stop();
  Stop(const Stop &) = delete;
  Stop &operator=(const Stop &) = delete;
};

} // namespace checksync::detail::mutators

#endif
