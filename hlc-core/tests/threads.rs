//! Real threads hammering one clock: every timestamp unique, each thread's increasing.

use std::sync::Arc;

use hlc_core::{CachedClock, Hlc, PhysicalClock, SystemClock, Timestamp};

const PER_THREAD: usize = 1_000_000;

fn stamp_from_two_threads<C: PhysicalClock + 'static>(hlc: Arc<Hlc<C>>) {
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let hlc = Arc::clone(&hlc);
            std::thread::spawn(move || {
                let mut stamps = Vec::with_capacity(PER_THREAD);
                for n in 0..PER_THREAD {
                    // Mix receive events in: merge our own recent past, as a peer echo would.
                    let t = if n % 8 == i {
                        hlc.update(hlc.last()).unwrap()
                    } else {
                        hlc.now()
                    };
                    stamps.push(t);
                }
                stamps
            })
        })
        .collect();
    let mut all: Vec<Timestamp> = Vec::with_capacity(2 * PER_THREAD);
    for worker in workers {
        let stamps = worker.join().unwrap();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
        all.extend(stamps);
    }
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!(all.len(), before, "duplicate timestamps across threads");
}

#[test]
fn two_threads_on_the_system_clock_never_duplicate() {
    stamp_from_two_threads(Arc::new(Hlc::new()));
}

#[test]
fn two_threads_on_a_cached_clock_never_duplicate() {
    // A clock that stands still makes every stamp come from the logical counter and its carries.
    let (clock, _refresher) =
        CachedClock::unspawned(SystemClock, std::time::Duration::from_millis(1));
    let hlc = Arc::new(Hlc::with_clock(clock));
    stamp_from_two_threads(Arc::clone(&hlc));
    assert!(hlc.stats().carries > 400, "{:?}", hlc.stats());
}
