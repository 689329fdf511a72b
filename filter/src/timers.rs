//! Deadline queue for fault delays (and the counter flush, which shares the timer).
//!
//! proxy-wasm gives each root context a single tick timer, and Envoy re-arms it on every
//! `set_tick_period` call (the timer is recreated, so a shorter period takes effect at once).
//! Delayed requests are kept in a min-heap by deadline; the timer is always armed for the
//! earliest deadline, so many concurrent delays of different lengths each end within the
//! timer's millisecond resolution, and no worker is ever blocked. The timer is periodic:
//! a tick that needs the same period again leaves it alone instead of setting it anew.
//!
//! A tick releases at most [`MAX_DUE_PER_TICK`] requests; if more are due, the timer is
//! re-armed at 1 ms for the rest. Envoy runs what a VM call queued (a local reply sent
//! from `on_tick`) one action after each VM call, and each local reply makes a VM call of
//! its own (`proxy_on_response_headers`), so N replies from one tick nest N deep on
//! Envoy's stack: with 2,000 delayed aborts due at once, V8 failed with "Maximum call stack
//! size exceeded" after 600–1,100 of them and the VM was lost (`RELIABILITY.md`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// Nanoseconds since the Unix epoch (the host clock).
pub type Nanos = u64;

/// The most requests one tick releases (see the module docs: bounds Envoy's nesting of the
/// local replies sent from one tick; 2,000 at once overflowed V8's stack).
pub const MAX_DUE_PER_TICK: usize = 64;

/// Pending delays: `(deadline, context id)`, earliest first.
#[derive(Debug, Default)]
pub struct DelayQueue {
    heap: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
    seq: u64,
    /// When the armed tick fires (`None`: timer off).
    armed: Option<Nanos>,
    /// The period the host's timer was last set to (`None`: off). The timer is periodic, so
    /// a tick that would re-arm it with the same period leaves it alone (one host call
    /// fewer per tick).
    period: Option<Duration>,
    /// When batched counter increments are due to be handed to the host (`None`: none
    /// pending). See [`DelayQueue::schedule_flush`].
    flush_at: Option<Nanos>,
}

/// What to do with the tick timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Leave it as it is.
    Keep,
    /// Arm it for this period (milliseconds ≥ 1).
    Arm(Duration),
    /// Switch it off (period 0).
    Stop,
}

fn period(now: Nanos, deadline: Nanos) -> Duration {
    let ms = deadline.saturating_sub(now).div_ceil(1_000_000).max(1);
    Duration::from_millis(ms)
}

impl DelayQueue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Queues `context_id` until `deadline`; says how to (re)arm the timer.
    pub fn push(&mut self, now: Nanos, deadline: Nanos, context_id: u32) -> Tick {
        self.seq += 1;
        self.heap.push(Reverse((deadline, self.seq, context_id)));
        self.wake_by(now, deadline)
    }

    /// Whether a counter flush is already scheduled.
    pub fn flush_scheduled(&self) -> bool {
        self.flush_at.is_some()
    }

    /// Schedules a counter flush `within` from `now` (unless one is already scheduled); says
    /// how to (re)arm the timer.
    pub fn schedule_flush(&mut self, now: Nanos, within: Duration) -> Tick {
        if self.flush_at.is_some() {
            return Tick::Keep;
        }
        let at = now.saturating_add(within.as_nanos().min(u128::from(u64::MAX)) as u64);
        self.flush_at = Some(at);
        self.wake_by(now, at)
    }

    /// On a tick that flushed counters, while traffic goes on: the next flush `within` from
    /// `now`, for [`DelayQueue::pop_due`] (called next) to keep the timer running for it,
    /// so requests need not read the clock nor re-arm the timer every period.
    pub fn reschedule_flush(&mut self, now: Nanos, within: Duration) {
        self.flush_at =
            Some(now.saturating_add(within.as_nanos().min(u128::from(u64::MAX)) as u64));
    }

    /// On a tick: whether the scheduled counter flush is due (it is then unscheduled). Call
    /// before [`DelayQueue::pop_due`], which arms the timer for what is still pending.
    pub fn take_flush(&mut self, now: Nanos) -> bool {
        match self.flush_at {
            Some(at) if at <= now => {
                self.flush_at = None;
                true
            }
            _ => false,
        }
    }

    /// Arms the timer for `at` unless it already fires by then.
    fn wake_by(&mut self, now: Nanos, at: Nanos) -> Tick {
        match self.armed {
            Some(armed) if armed <= at => Tick::Keep,
            _ => {
                let p = period(now, at);
                self.armed = Some(now.saturating_add(p.as_nanos() as u64));
                self.period = Some(p);
                Tick::Arm(p)
            }
        }
    }

    /// On a tick: the contexts whose deadline has passed (earliest first, at most
    /// [`MAX_DUE_PER_TICK`]), and how to re-arm (1 ms when more are already due).
    pub fn pop_due(&mut self, now: Nanos) -> (Vec<u32>, Tick) {
        let mut due = Vec::new();
        while let Some(Reverse((deadline, _, id))) = self.heap.peek().copied() {
            if deadline > now || due.len() >= MAX_DUE_PER_TICK {
                break;
            }
            self.heap.pop();
            due.push(id);
        }
        let next = self.heap.peek().map(|Reverse((deadline, _, _))| *deadline);
        let next = match (next, self.flush_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let tick = match next {
            None => {
                self.armed = None;
                self.period = None;
                Tick::Stop
            }
            Some(at) => {
                let p = period(now, at);
                self.armed = Some(now.saturating_add(p.as_nanos() as u64));
                // The timer just fired and runs on with its period: the same period needs
                // no host call.
                if self.period == Some(p) {
                    Tick::Keep
                } else {
                    self.period = Some(p);
                    Tick::Arm(p)
                }
            }
        };
        (due, tick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn arms_for_the_earliest_deadline() {
        let mut q = DelayQueue::new();
        assert_eq!(
            q.push(0, 500 * MS, 1),
            Tick::Arm(Duration::from_millis(500))
        );
        // Later deadline: timer stays.
        assert_eq!(q.push(10 * MS, 900 * MS, 2), Tick::Keep);
        // Earlier deadline: re-arm now.
        assert_eq!(
            q.push(20 * MS, 120 * MS, 3),
            Tick::Arm(Duration::from_millis(100))
        );
        // Sub-millisecond remainders round up, never 0.
        assert_eq!(
            q.push(20 * MS, 20 * MS + 1, 4),
            Tick::Arm(Duration::from_millis(1))
        );

        let (due, tick) = q.pop_due(21 * MS);
        assert_eq!(due, vec![4]);
        assert_eq!(tick, Tick::Arm(Duration::from_millis(99)));
        let (due, tick) = q.pop_due(119 * MS); // early tick: nothing due, re-arm 1 ms
        assert!(due.is_empty());
        assert_eq!(tick, Tick::Arm(Duration::from_millis(1)));
        let (due, tick) = q.pop_due(119 * MS + 500_000); // 1 ms again: the timer runs on
        assert!(due.is_empty());
        assert_eq!(tick, Tick::Keep);
        let (due, _) = q.pop_due(600 * MS);
        assert_eq!(due, vec![3, 1]);
        let (due, tick) = q.pop_due(900 * MS);
        assert_eq!(due, vec![2]);
        assert_eq!(tick, Tick::Stop);
        assert!(q.is_empty());
        // After stopping, the next push arms again.
        assert_eq!(
            q.push(1000 * MS, 1200 * MS, 5),
            Tick::Arm(Duration::from_millis(200))
        );
    }

    #[test]
    fn many_concurrent_delays_keep_order() {
        let mut q = DelayQueue::new();
        for i in 0..1000u32 {
            let d = u64::from((i * 7919) % 1000) * MS;
            q.push(0, d, i);
        }
        let mut seen = Vec::new();
        let mut now = 0;
        while !q.is_empty() {
            now += MS;
            let (due, _) = q.pop_due(now);
            seen.extend(
                due.into_iter()
                    .map(|id| (u64::from((id * 7919) % 1000) * MS, id)),
            );
        }
        assert_eq!(seen.len(), 1000);
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn the_counter_flush_shares_the_timer_with_delays() {
        let mut q = DelayQueue::new();
        // Nothing armed: the flush arms the timer.
        assert_eq!(
            q.schedule_flush(0, Duration::from_millis(100)),
            Tick::Arm(Duration::from_millis(100))
        );
        assert!(q.flush_scheduled());
        // Already scheduled: nothing changes, however often it is asked.
        assert_eq!(
            q.schedule_flush(50 * MS, Duration::from_millis(100)),
            Tick::Keep
        );
        // A delay ending later keeps the timer; one ending earlier re-arms it.
        assert_eq!(q.push(10 * MS, 300 * MS, 1), Tick::Keep);
        assert_eq!(
            q.push(20 * MS, 60 * MS, 2),
            Tick::Arm(Duration::from_millis(40))
        );
        // At 60 ms: the delay is due, the flush is not; the flush is 40 ms away, the
        // timer's own period: it runs on as it is.
        assert!(!q.take_flush(60 * MS));
        let (due, tick) = q.pop_due(60 * MS);
        assert_eq!(due, vec![2]);
        assert_eq!(tick, Tick::Keep);
        // At 100 ms: the flush is due (once), then the timer waits for the last delay.
        assert!(q.take_flush(100 * MS));
        assert!(!q.take_flush(100 * MS));
        let (due, tick) = q.pop_due(100 * MS);
        assert!(due.is_empty());
        assert_eq!(tick, Tick::Arm(Duration::from_millis(200)));
        let (due, tick) = q.pop_due(300 * MS);
        assert_eq!(due, vec![1]);
        assert_eq!(tick, Tick::Stop);
        // A flush alone stops the timer once taken.
        assert_eq!(
            q.schedule_flush(400 * MS, Duration::from_millis(100)),
            Tick::Arm(Duration::from_millis(100))
        );
        assert!(q.take_flush(500 * MS));
        assert_eq!(q.pop_due(500 * MS), (Vec::new(), Tick::Stop));
    }

    #[test]
    fn a_rescheduled_flush_keeps_the_periodic_timer_without_host_calls() {
        let mut q = DelayQueue::new();
        let p = Duration::from_millis(100);
        assert_eq!(q.schedule_flush(0, p), Tick::Arm(p));
        // Each tick that flushed while traffic goes on: next flush one period later, the
        // timer (already periodic at 100 ms) is left alone.
        for k in 1..=3u64 {
            assert!(q.take_flush(k * 100 * MS));
            q.reschedule_flush(k * 100 * MS, p);
            assert!(q.flush_scheduled());
            assert_eq!(q.pop_due(k * 100 * MS), (Vec::new(), Tick::Keep));
        }
        // A delay ending sooner re-arms; then back to the flush period.
        assert_eq!(
            q.push(310 * MS, 340 * MS, 1),
            Tick::Arm(Duration::from_millis(30))
        );
        assert!(!q.take_flush(340 * MS));
        assert_eq!(
            q.pop_due(340 * MS),
            (vec![1], Tick::Arm(Duration::from_millis(60)))
        );
        // Idle: the flush is taken and not rescheduled, the timer stops.
        assert!(q.take_flush(400 * MS));
        assert_eq!(q.pop_due(400 * MS), (Vec::new(), Tick::Stop));
        assert_eq!(q.schedule_flush(450 * MS, p), Tick::Arm(p));
    }

    #[test]
    fn a_burst_of_due_requests_is_released_in_bounded_batches() {
        let mut q = DelayQueue::new();
        for i in 0..2000u32 {
            q.push(0, 1000 * MS, i);
        }
        // All 2,000 are due at the same tick: 64 now, the timer re-armed at 1 ms for the rest.
        let (due, tick) = q.pop_due(1000 * MS);
        assert_eq!(due, (0..64).collect::<Vec<u32>>());
        assert_eq!(tick, Tick::Arm(Duration::from_millis(1)));
        let mut ticks = 1;
        let mut released = due.len();
        let mut now = 1000 * MS;
        loop {
            now += MS;
            let (due, tick) = q.pop_due(now);
            assert!(due.len() <= MAX_DUE_PER_TICK);
            released += due.len();
            ticks += 1;
            match tick {
                Tick::Arm(p) => panic!("the 1 ms timer runs on; re-armed at {p:?}"),
                Tick::Stop => break,
                Tick::Keep => {}
            }
        }
        assert_eq!(released, 2000);
        assert_eq!(ticks, 2000_usize.div_ceil(MAX_DUE_PER_TICK));
        assert!(q.is_empty());
    }
}
