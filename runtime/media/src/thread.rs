//! A media thread: one OS thread that drives every leg given to it from a 1 ms timing wheel.
//!
//! Why not a tokio task per leg: each leg then had its own timer in tokio's wheel and its own
//! task wake-up every 20 ms, and tokio's timer fires on whole milliseconds (a tick ran 1–2 ms
//! after its deadline before any load at all). Here each leg's 20 ms clock is put on one of 20
//! one-millisecond slots — the least busy one when the leg starts — so one wake-up serves every
//! leg due in that millisecond, the thread sleeps until exactly the next busy slot, and the
//! lateness a leg reports is only the real delay: waiting for the CPU and for the legs served
//! before it in its slot.
//!
//! Each leg keeps its own absolute-deadline [`crate::pacer::Pacer`]; the wheel only decides when
//! to look. A leg is ticked only once its own deadline has passed, so the wheel can never make a
//! leg send early, and a thread stalled for longer than a period serves every slot once and lets
//! each leg's pacer account for what it skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use tokio::time::Instant;

use crate::MediaError;
use crate::engine::Engine;

/// Slots of the wheel: one per millisecond of the 20 ms period.
const SLOTS: u64 = 20;
const SLOT: Duration = Duration::from_millis(1);

/// A leg handed to the thread.
struct Leg {
    engine: Engine,
    span: tracing::Span,
}

/// What the wheel needs of a leg: a [`Leg`], or a recording stand-in in the wheel's own tests.
trait Ticking {
    fn deadline(&self) -> Instant;
    fn start_at(&mut self, first: Instant);
    /// One tick at `now`; `false` once the leg has ended.
    fn tick(&mut self, now: Instant) -> bool;
    fn finish(self);
}

impl Ticking for Leg {
    fn deadline(&self) -> Instant {
        self.engine.deadline()
    }
    fn start_at(&mut self, first: Instant) {
        self.engine.start_at(first)
    }
    fn tick(&mut self, now: Instant) -> bool {
        let _in = self.span.enter();
        self.engine.on_tick(now)
    }
    fn finish(self) {
        self.engine.finish()
    }
}

/// Handle to a media thread. Legs are added with [`crate::MediaSession::open_on_thread`]; the
/// thread runs until this handle is dropped and its last leg has ended.
#[derive(Debug)]
pub struct MediaThread {
    tx: mpsc::Sender<Leg>,
    legs: Arc<AtomicUsize>,
    load: Arc<AtomicU32>,
    name: String,
}

impl MediaThread {
    /// Starts a thread named `name`. `on_start` runs first on the new thread (to raise its
    /// scheduling priority, for instance).
    pub fn spawn(name: impl Into<String>, on_start: impl FnOnce() + Send + 'static) -> std::io::Result<Self> {
        let name = name.into();
        let (tx, rx) = mpsc::channel();
        let legs = Arc::new(AtomicUsize::new(0));
        let load = Arc::new(AtomicU32::new(0));
        let (count, meter) = (legs.clone(), load.clone());
        std::thread::Builder::new().name(name.clone()).spawn(move || {
            on_start();
            Wheel::<Leg>::new(count, meter).run(rx);
        })?;
        Ok(Self { tx, legs, load, name })
    }

    /// The share of the last second (0.0–1.0) the thread spent ticking its legs, including time
    /// it was runnable but waiting for a CPU mid-slot. Near 1.0 the thread cannot keep its legs'
    /// clocks: new calls should go elsewhere (the runtime refuses them, `[media] max_load`).
    /// 0 when the thread has no legs.
    pub fn load(&self) -> f64 {
        self.load.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Legs the thread drives now (to put a new call on the least busy thread).
    pub fn legs(&self) -> usize {
        self.legs.load(Ordering::Relaxed)
    }

    /// The thread's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn add(&self, engine: Engine, port: u16) -> Result<(), MediaError> {
        let span = tracing::debug_span!("media", port);
        // The count goes up here (not when the thread takes the leg) so that several calls
        // arriving together spread over the threads.
        self.legs.fetch_add(1, Ordering::Relaxed);
        self.tx.send(Leg { engine, span }).map_err(|_| {
            self.legs.fetch_sub(1, Ordering::Relaxed);
            MediaError::Closed
        })
    }
}

struct Wheel<L> {
    epoch: Instant,
    slots: Vec<Vec<L>>,
    /// Legs on the wheel (shared with the handle).
    count: Arc<AtomicUsize>,
    on_wheel: usize,
    /// The next slot time to serve, in ms since `epoch`.
    cursor: u64,
    meter: LoadMeter,
    /// The last window's load in ‰ (shared with the handle).
    load: Arc<AtomicU32>,
}

/// Wall time spent serving legs, as a share of windows of about a second.
struct LoadMeter {
    window_start: Instant,
    busy: Duration,
}

impl LoadMeter {
    const WINDOW: Duration = Duration::from_secs(1);

    fn new(now: Instant) -> Self {
        Self { window_start: now, busy: Duration::ZERO }
    }

    /// Adds `busy` ending at `now`; at the end of a window, returns its load in ‰.
    fn add(&mut self, busy: Duration, now: Instant) -> Option<u32> {
        self.busy += busy;
        let span = now.saturating_duration_since(self.window_start);
        if span < Self::WINDOW {
            return None;
        }
        let permille = (self.busy.as_nanos() * 1000 / span.as_nanos()).min(1000) as u32;
        *self = Self::new(now);
        Some(permille)
    }
}

impl<L: Ticking> Wheel<L> {
    fn new(count: Arc<AtomicUsize>, load: Arc<AtomicU32>) -> Self {
        Self::starting(Instant::now(), count, load)
    }

    fn starting(epoch: Instant, count: Arc<AtomicUsize>, load: Arc<AtomicU32>) -> Self {
        Self { meter: LoadMeter::new(epoch), load, epoch, slots: (0..SLOTS).map(|_| Vec::new()).collect(), count, on_wheel: 0, cursor: 0 }
    }

    fn ms_at(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.epoch).as_nanos() / SLOT.as_nanos()) as u64
    }

    fn at_ms(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    fn run(mut self, rx: mpsc::Receiver<L>) {
        let mut rx = Some(rx);
        loop {
            let next = self.next_busy();
            // Wait for the next busy slot, taking new legs meanwhile.
            let got = match (&rx, next) {
                (Some(r), None) => r.recv().map_err(|_| RecvTimeoutError::Disconnected),
                (Some(r), Some(t)) => match t.checked_duration_since(Instant::now()) {
                    Some(d) if !d.is_zero() => r.recv_timeout(d),
                    _ => Err(RecvTimeoutError::Timeout),
                },
                (None, None) => return,
                (None, Some(t)) => {
                    std::thread::sleep(t.saturating_duration_since(Instant::now()));
                    Err(RecvTimeoutError::Timeout)
                }
            };
            match got {
                Ok(leg) => {
                    self.place(leg, Instant::now());
                    continue;
                }
                // Nobody can add legs any more; the ones on the wheel run to their end.
                Err(RecvTimeoutError::Disconnected) => rx = None,
                Err(RecvTimeoutError::Timeout) => {}
            }
            let start = Instant::now();
            self.serve(start, Instant::now);
            let end = Instant::now();
            if self.on_wheel == 0 {
                // Idle: nothing is late, and a stale high figure must not turn calls away.
                self.load.store(0, Ordering::Relaxed);
                self.meter = LoadMeter::new(end);
            } else if let Some(permille) = self.meter.add(end - start, end) {
                self.load.store(permille, Ordering::Relaxed);
            }
        }
    }

    /// When the next slot that has legs comes round.
    fn next_busy(&self) -> Option<Instant> {
        if self.on_wheel == 0 {
            return None;
        }
        let ms = (self.cursor..self.cursor + SLOTS).find(|m| !self.slots[(m % SLOTS) as usize].is_empty())?;
        Some(self.at_ms(ms))
    }

    /// Puts a new leg on the least busy slot whose time comes 20–39 ms from now: its first
    /// frame goes out within two periods of the call's media starting, and legs spread evenly
    /// over the period whatever order calls arrive in.
    fn place(&mut self, mut leg: L, now: Instant) {
        let first = first_slot(self.ms_at(now), |slot| self.slots[slot].len());
        leg.start_at(self.at_ms(first));
        self.slots[(first % SLOTS) as usize].push(leg);
        self.on_wheel += 1;
    }

    /// Ticks every leg whose deadline has passed in the slots from the cursor up to `now`;
    /// `clock` tells each tick the time it really runs at (its lateness is measured from that).
    ///
    /// A leg that fell behind (the thread was stalled) is ticked until it has caught up, the
    /// missed frames back to back as a tokio timer would fire them: ticking it once per visit
    /// would leave it a whole period late for the rest of the call. Its pacer skips what is more
    /// than 100 ms old, so a catch-up is at most five frames.
    fn serve(&mut self, now: Instant, clock: impl Fn() -> Instant) {
        let now_ms = self.ms_at(now);
        if now_ms < self.cursor {
            return;
        }
        // After a stall longer than a period, every slot once is enough.
        let from = self.cursor.max((now_ms + 1).saturating_sub(SLOTS));
        for m in from..=now_ms {
            let slot = &mut self.slots[(m % SLOTS) as usize];
            let mut i = 0;
            while i < slot.len() {
                let leg = &mut slot[i];
                let mut state = Ok(true);
                while matches!(state, Ok(true)) && leg.deadline() <= now {
                    // A bug that panics in one leg must not take the thread's other calls with
                    // it (as a tokio task's panic would not): that leg is dropped, they go on.
                    state = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| leg.tick(clock())));
                }
                if matches!(state, Ok(true)) {
                    i += 1;
                    continue;
                }
                let leg = slot.swap_remove(i);
                self.on_wheel -= 1;
                self.count.fetch_sub(1, Ordering::Relaxed);
                match state {
                    Err(_) => tracing::error!("a media leg panicked: its call loses audio, the thread's other calls go on"),
                    _ => leg.finish(),
                }
            }
        }
        self.cursor = now_ms + 1;
    }
}

/// The slot time (ms since the wheel's epoch) of a new leg's first tick, `now_ms` being now: the
/// least busy slot (`load` of a slot index) among the 20 whose time is 20–39 ms away, the
/// earliest of equally busy ones.
fn first_slot(now_ms: u64, load: impl Fn(usize) -> usize) -> u64 {
    (now_ms + SLOTS..now_ms + 2 * SLOTS).min_by_key(|m| (load((m % SLOTS) as usize), *m)).unwrap_or(now_ms + SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pacer::Pacer;

    /// A leg that records when it was ticked and how late its pacer says it was.
    struct Probe {
        pacer: Pacer,
        ticks: Arc<parking_lot::Mutex<Vec<(u32, Duration)>>>,
        ends_after: usize,
    }

    impl Ticking for Probe {
        fn deadline(&self) -> Instant {
            self.pacer.deadline()
        }
        fn start_at(&mut self, first: Instant) {
            self.pacer.restart_at(first)
        }
        fn tick(&mut self, now: Instant) -> bool {
            let f = self.pacer.fire(now);
            let mut t = self.ticks.lock();
            t.push((f.timestamp, f.late));
            t.len() < self.ends_after
        }
        fn finish(self) {}
    }

    /// Lets one wheel hold legs of different kinds in the tests.
    trait TickingBox {
        fn deadline(&self) -> Instant;
        fn start_at(&mut self, first: Instant);
        fn tick(&mut self, now: Instant) -> bool;
    }

    impl<T: Ticking> TickingBox for T {
        fn deadline(&self) -> Instant {
            Ticking::deadline(self)
        }
        fn start_at(&mut self, first: Instant) {
            Ticking::start_at(self, first)
        }
        fn tick(&mut self, now: Instant) -> bool {
            Ticking::tick(self, now)
        }
    }

    impl Ticking for Box<dyn TickingBox> {
        fn deadline(&self) -> Instant {
            (**self).deadline()
        }
        fn start_at(&mut self, first: Instant) {
            (**self).start_at(first)
        }
        fn tick(&mut self, now: Instant) -> bool {
            (**self).tick(now)
        }
        fn finish(self) {}
    }

    fn probe(ends_after: usize) -> (Probe, Arc<parking_lot::Mutex<Vec<(u32, Duration)>>>) {
        let ticks = Arc::new(parking_lot::Mutex::new(Vec::new()));
        (Probe { pacer: Pacer::new(Instant::now(), 0), ticks: ticks.clone(), ends_after }, ticks)
    }

    #[test]
    fn a_leg_behind_after_a_stall_catches_up_instead_of_staying_a_period_late() {
        let epoch = Instant::now();
        let mut w = Wheel::starting(epoch, Arc::new(AtomicUsize::new(1)), Arc::default());
        let (p, ticks) = probe(usize::MAX);
        w.place(p, epoch);
        let at = |ms: u64| epoch + Duration::from_millis(ms);
        // On time for 5 periods (the first tick is 20 ms after placing: slot 20).
        for k in 0..5u64 {
            let t = at(20 + 20 * k);
            w.serve(t, || t);
        }
        assert_eq!(ticks.lock().len(), 5);
        assert!(ticks.lock().iter().all(|&(_, late)| late.is_zero()));
        // The thread stalls 50 ms past the next deadline (120 ms): the three missed frames go out
        // at once, and the next period is on time again.
        let t = at(170);
        w.serve(t, || t);
        let got: Vec<(u32, Duration)> = ticks.lock()[5..].to_vec();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [800, 960, 1120], "continuous timestamps");
        assert_eq!(got.iter().map(|g| g.1.as_millis()).collect::<Vec<_>>(), [50, 30, 10]);
        let t = at(180);
        w.serve(t, || t);
        assert_eq!(ticks.lock().len(), 9);
        assert!(ticks.lock()[8].1.is_zero(), "back on time: {:?}", ticks.lock()[8]);
    }

    /// A leg whose tick panics (a bug) on its second tick.
    struct Faulty(Pacer, usize);

    impl Ticking for Faulty {
        fn deadline(&self) -> Instant {
            self.0.deadline()
        }
        fn start_at(&mut self, first: Instant) {
            self.0.restart_at(first)
        }
        fn tick(&mut self, now: Instant) -> bool {
            self.0.fire(now);
            self.1 += 1;
            assert!(self.1 < 2, "deliberate test panic in a media leg");
            true
        }
        fn finish(self) {}
    }

    #[test]
    fn a_panicking_leg_is_dropped_and_the_others_go_on() {
        let epoch = Instant::now();
        let count = Arc::new(AtomicUsize::new(2));
        let mut w: Wheel<Box<dyn TickingBox>> = Wheel::starting(epoch, count.clone(), Arc::default());
        let (good, ticks) = probe(usize::MAX);
        w.place(Box::new(Faulty(Pacer::new(epoch, 0), 0)), epoch);
        w.place(Box::new(good), epoch);
        for ms in 1..=100u64 {
            let t = epoch + Duration::from_millis(ms);
            if w.next_busy().is_some_and(|due| due <= t) {
                w.serve(t, || t);
            }
        }
        assert_eq!((w.on_wheel, count.load(Ordering::Relaxed)), (1, 1), "the faulty leg is gone");
        assert_eq!(ticks.lock().len(), 4, "the good leg kept its 20 ms clock");
    }

    #[test]
    fn an_ended_leg_leaves_the_wheel() {
        let epoch = Instant::now();
        let count = Arc::new(AtomicUsize::new(2));
        let mut w = Wheel::starting(epoch, count.clone(), Arc::default());
        let (a, ta) = probe(3);
        let (b, tb) = probe(usize::MAX);
        w.place(a, epoch);
        w.place(b, epoch);
        for ms in 1..=100u64 {
            let t = epoch + Duration::from_millis(ms);
            if w.next_busy().is_some_and(|due| due <= t) {
                w.serve(t, || t);
            }
        }
        assert_eq!(ta.lock().len(), 3);
        assert_eq!(w.on_wheel, 1);
        assert_eq!(count.load(Ordering::Relaxed), 1);
        // The other leg went on every 20 ms, in a slot of its own.
        assert_eq!(tb.lock().len(), 4);
        assert!(tb.lock().windows(2).all(|w| w[1].0 - w[0].0 == 160));
    }

    #[test]
    fn load_is_the_busy_share_of_each_second() {
        let t0 = Instant::now();
        let mut m = LoadMeter::new(t0);
        let ms = |n: u64| Duration::from_millis(n);
        // 50 serves of 9 ms in one second: 45 %.
        for k in 1..50u64 {
            assert_eq!(m.add(ms(9), t0 + ms(20 * k)), None);
        }
        assert_eq!(m.add(ms(9), t0 + ms(1000)), Some(450));
        // The next window starts empty; a thread that never rests reads 100 %, not more.
        assert_eq!(m.add(ms(600), t0 + ms(1500)), None);
        assert_eq!(m.add(ms(700), t0 + ms(2000)), Some(1000));
    }

    #[test]
    fn new_legs_go_to_the_least_busy_slot_at_least_a_period_away() {
        let mut load = [0usize; SLOTS as usize];
        // An empty wheel: the first slot a full period from now.
        assert_eq!(first_slot(1000, |s| load[s]), 1020);
        // Every slot but 7 and 13 busy: the nearer of the two (slot 7 is 1027, 13 is 1033).
        load.iter_mut().for_each(|l| *l = 3);
        load[13] = 1;
        load[7] = 1;
        assert_eq!(first_slot(1000, |s| load[s]), 1027);
        // Calls arriving in one burst spread over the whole period, one per slot, then two.
        let mut load = [0usize; SLOTS as usize];
        let mut slots = Vec::new();
        for _ in 0..40 {
            let m = first_slot(500, |s| load[s]);
            assert!((520..540).contains(&m));
            load[(m % SLOTS) as usize] += 1;
            slots.push(m % SLOTS);
        }
        assert!(load.iter().all(|&l| l == 2), "{load:?}");
        let mut first20 = slots[..20].to_vec();
        first20.sort();
        assert_eq!(first20, (0..20).collect::<Vec<_>>());
    }
}
