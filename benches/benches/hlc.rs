//! Criterion benches for hlc-core: stamping, merging, stamping from two threads and the wire
//! codecs, each beside uhlc 0.9 (the HLC crate Rust projects use today) as the peer.
//!
//! The ids are an interface: figures compare across runs only while they
//! stay the same. Every bench checks its results: stamps strictly increase, merges exceed the
//! remote, round trips give back their input. `hlc/read_then_cas` is not a clock but the floor
//! under any clock shared between threads. `scripts/bench-table` turns a run into the tables of
//! `benches/README.md`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use hlc_core::{CachedClock, Hlc, PhysicalClock, SystemClock};

/// How often the cached clock of the `*_cached` benches is refreshed.
const CACHE_REFRESH: Duration = Duration::from_millis(1);
/// 2020-01-01T00:00:00Z in seconds: a physical time before it is no reading of a real clock.
const PLAUSIBLE_SECS: u64 = 1_577_836_800;

/// The one cached clock of every `*_cached` bench, ours and uhlc's alike: they read the same
/// word, refreshed by the same thread, so that only the clocks' own work differs.
fn cached_clock() -> &'static CachedClock {
    static CLOCK: OnceLock<CachedClock> = OnceLock::new();
    CLOCK.get_or_init(|| CachedClock::spawn(SystemClock, CACHE_REFRESH))
}

fn cached_hlc() -> Hlc<CachedClock> {
    Hlc::with_clock(cached_clock().clone())
}

/// Calls `stamp` `iters` times, asserting that each result exceeds the one before (`first`
/// for the first call): one compare and a never-taken branch per stamp, the same for every
/// clock. Returns the last result.
#[inline(always)]
fn stamp_increasing<T: Ord>(iters: u64, first: T, mut stamp: impl FnMut() -> T) -> T {
    let mut previous = first;
    for _ in 0..iters {
        let next = black_box(stamp());
        assert!(next > previous, "stamps must strictly increase");
        previous = next;
    }
    previous
}

/// The time `iters` increasing stamps take on this thread.
fn time_increasing<T: Ord>(iters: u64, mut stamp: impl FnMut() -> T) -> Duration {
    let first = stamp();
    let start = Instant::now();
    stamp_increasing(iters, first, stamp);
    start.elapsed()
}

/// Single-threaded stamping: the raw clock read, the floor of a shared clock, our clock on
/// two physical clocks, uhlc on the same two.
mod stamping {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    pub(super) fn define(c: &mut Criterion) {
        let mut group = c.benchmark_group("hlc");
        group.bench_function("system_time_now", |b| b.iter_custom(time_system_time));
        let shared = SharedWord(AtomicU64::new(0));
        group.bench_function("read_then_cas", |b| {
            b.iter_custom(|iters| time_read_then_cas(&shared, iters));
        });
        let hlc = Hlc::new();
        group.bench_function("now", |b| {
            b.iter_custom(|iters| time_increasing(iters, || hlc.now()));
        });
        let cached = cached_hlc();
        assert!(cached.now().physical_micros() / 1_000_000 > PLAUSIBLE_SECS);
        group.bench_function("now_cached", |b| {
            b.iter_custom(|iters| time_increasing(iters, || cached.now()));
        });
        let uhlc = uhlc::HLC::default();
        group.bench_function("uhlc_new_timestamp", |b| {
            b.iter_custom(|iters| time_increasing(iters, || uhlc.new_timestamp()));
        });
        let uhlc_cached = uhlc::HLCBuilder::new()
            .with_clock(uhlc_cached_clock)
            .build();
        // A clock function that read nothing (uhlc's `zero_clock`) would stamp just as fast.
        let time = *uhlc_cached.new_timestamp().get_time();
        assert!(
            u64::from(time.as_secs()) > PLAUSIBLE_SECS,
            "uhlc reads the cache"
        );
        group.bench_function("uhlc_new_timestamp_cached", |b| {
            b.iter_custom(|iters| time_increasing(iters, || uhlc_cached.new_timestamp()));
        });
        group.finish();
    }

    /// The clock read alone. The system clock may step back, so there is no order to check;
    /// the check is that the last reading is a plausible present (after 2020).
    fn time_system_time(iters: u64) -> Duration {
        let mut last = UNIX_EPOCH;
        let start = Instant::now();
        for _ in 0..iters {
            last = black_box(SystemTime::now());
        }
        let elapsed = start.elapsed();
        assert!(iters == 0 || last > UNIX_EPOCH + Duration::from_secs(PLAUSIBLE_SECS));
        elapsed
    }

    /// A word on a cache line of its own, as the state of [`Hlc`] is.
    #[repr(align(128))]
    pub(super) struct SharedWord(AtomicU64);

    /// What any clock shared between threads must do per stamp at the least: read the
    /// default clock (the one [`Hlc::now`] reads) and publish the reading with one
    /// compare-and-swap, with nothing computed between the two. The check is the one
    /// [`stamp_increasing`] makes, a compare and a never-taken branch: each swap succeeds,
    /// since this thread alone writes the word.
    fn time_read_then_cas(shared: &SharedWord, iters: u64) -> Duration {
        let mut last = shared.0.load(Ordering::Relaxed);
        let start = Instant::now();
        for _ in 0..iters {
            let read = SystemClock.now_micros();
            let swapped =
                shared
                    .0
                    .compare_exchange(last, read, Ordering::Relaxed, Ordering::Relaxed);
            assert!(swapped.is_ok(), "only this thread writes the word");
            last = read;
        }
        let elapsed = start.elapsed();
        assert!(iters == 0 || last / 1_000_000 > PLAUSIBLE_SECS);
        elapsed
    }

    /// uhlc takes its clock as a plain `fn() -> NTP64`, so it reaches the shared cache through
    /// the static. uhlc's time is NTP64 from the Unix epoch: whole seconds in the high 32 bits,
    /// the fraction of a second in 2^-32 units below (the division by a constant compiles to a
    /// multiplication).
    fn uhlc_cached_clock() -> uhlc::NTP64 {
        let micros = cached_clock().now_micros();
        let (secs, sub_micros) = (micros / 1_000_000, micros % 1_000_000);
        uhlc::NTP64((secs << 32) | ((sub_micros << 32) / 1_000_000))
    }
}

/// Receive events: merging a remote timestamp that is behind, or ahead, of the local clock.
mod merging {
    use hlc_core::{PhysicalClock, Timestamp};

    use super::*;

    /// How far ahead of the local physical clock the remotes of `hlc/update_remote_ahead` are:
    /// inside the default max offset, and longer than any pause the scheduler inflicts
    /// on the bench thread, so that every remote is still ahead when it is merged.
    const REMOTE_LEAD_MICROS: u64 = 200_000;
    /// Updates per physical-clock read when making ahead remotes: the extra read costs a
    /// tenth of a nanosecond per update.
    const CHUNK: u64 = 256;

    pub(super) fn define(c: &mut Criterion) {
        let mut group = c.benchmark_group("hlc");
        // Stamped before the run, this remote is behind the local clock for every update, as
        // a message that spent some time on the wire is.
        let remote = Hlc::new().now();
        let hlc = Hlc::new();
        group.bench_function("update_remote_behind", |b| {
            b.iter_custom(|iters| {
                let merge = || hlc.update(remote).expect("a remote behind is accepted");
                let first = merge();
                assert!(first > remote);
                let start = Instant::now();
                stamp_increasing(iters, first, merge);
                start.elapsed()
            });
        });
        // A clock of its own: after this bench it leads its physical clock by the lead.
        let hlc = Hlc::new();
        group.bench_function("update_remote_ahead", |b| {
            b.iter_custom(|iters| time_remote_ahead(&hlc, iters));
        });
        let peer = uhlc::HLC::default();
        let remote = uhlc::HLC::default().new_timestamp();
        group.bench_function("uhlc_update", |b| {
            b.iter_custom(|iters| time_uhlc_update(&peer, &remote, iters));
        });
        group.finish();
    }

    /// Each remote must be ahead of both the physical clock and the clock's state when it is
    /// merged, or the bench would measure the "behind" case again after the first update. A
    /// remote from a second clock would cost a second stamp per update, and precomputed
    /// remotes a memory stream; instead every `CHUNK` updates the remote is rebased above both
    /// the physical clock plus the lead and the clock's state, and between rebases it steps
    /// by 2 (packed units), so it always exceeds the state, which the previous merge left at
    /// the previous remote + 1.
    /// Every merge must then return exactly remote + 1: the remote's rule won.
    fn time_remote_ahead(hlc: &Hlc, iters: u64) -> Duration {
        let mut remote_won = 0;
        let mut left = iters;
        let start = Instant::now();
        while left > 0 {
            let chunk = left.min(CHUNK);
            let now = SystemClock.now_micros();
            let lead = Timestamp::from_physical_micros(now + REMOTE_LEAD_MICROS);
            let mut remote = lead.as_u64().max(hlc.last().as_u64() + 1);
            for _ in 0..chunk {
                let merged = hlc.update(Timestamp::from_u64(remote));
                let merged = merged.expect("a remote within max offset is accepted");
                remote_won += u64::from(merged.as_u64() == remote + 1);
                remote += 2;
            }
            left -= chunk;
        }
        let elapsed = start.elapsed();
        assert_eq!(remote_won, iters, "every merged remote was ahead");
        elapsed
    }

    /// uhlc's update merges without returning a stamp; the next stamp must exceed the remote.
    fn time_uhlc_update(peer: &uhlc::HLC, remote: &uhlc::Timestamp, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            let merged = peer.update_with_timestamp(black_box(remote));
            merged.expect("a remote behind is accepted");
        }
        let elapsed = start.elapsed();
        assert!(peer.new_timestamp() > *remote);
        elapsed
    }
}

/// Two threads stamping one shared clock; the figure is wall time per timestamp.
mod contended {
    use super::*;

    pub(super) fn define(c: &mut Criterion) {
        let mut group = c.benchmark_group("hlc");
        let hlc = Hlc::new();
        group.bench_function("now_2threads", |b| {
            b.iter_custom(|iters| {
                let (elapsed, lasts) = time_two_threads(iters, || hlc.now());
                // The last successful compare-and-swap was one of the two threads' stamps.
                assert_eq!(hlc.last(), lasts[0].max(lasts[1]));
                elapsed
            });
        });
        let cached = cached_hlc();
        group.bench_function("now_cached_2threads", |b| {
            b.iter_custom(|iters| {
                let (elapsed, lasts) = time_two_threads(iters, || cached.now());
                assert_eq!(cached.last(), lasts[0].max(lasts[1]));
                elapsed
            });
        });
        let uhlc = uhlc::HLC::default();
        group.bench_function("uhlc_2threads", |b| {
            b.iter_custom(|iters| {
                let (elapsed, lasts) = time_two_threads(iters, || uhlc.new_timestamp());
                assert!(uhlc.new_timestamp() > lasts[0].max(lasts[1]));
                elapsed
            });
        });
        group.finish();
    }

    /// Splits `iters` stamps between two threads, each asserting its own stamps increase, and
    /// returns the wall time from the first thread's start to the last one's end, with each
    /// thread's last stamp. Thread start-up is outside the timed span: std's barrier waits
    /// until both run, then a spin gate lines up their first stamps (the barrier alone would
    /// let one thread stamp uncontended while the kernel wakes the other).
    fn time_two_threads<T: Ord + Send>(
        iters: u64,
        stamp: impl Fn() -> T + Sync,
    ) -> (Duration, [T; 2]) {
        let barrier = Barrier::new(2);
        let arrived = AtomicUsize::new(0);
        let runs = thread::scope(|scope| {
            let handles = [iters.div_ceil(2), iters / 2].map(|share| {
                let (barrier, arrived, stamp) = (&barrier, &arrived, &stamp);
                scope.spawn(move || {
                    let first = stamp();
                    barrier.wait();
                    arrived.fetch_add(1, Ordering::AcqRel);
                    while arrived.load(Ordering::Acquire) < 2 {
                        std::hint::spin_loop();
                    }
                    let start = Instant::now();
                    let last = stamp_increasing(share, first, stamp);
                    (start, Instant::now(), last)
                })
            });
            handles.map(|handle| handle.join().expect("a stamping thread panicked"))
        });
        let [(start_a, end_a, last_a), (start_b, end_b, last_b)] = runs;
        (end_a.max(end_b) - start_a.min(start_b), [last_a, last_b])
    }
}

/// The wire forms: our text header and 16-byte key beside uhlc's string form.
mod codec {
    use hlc_core::{wire, NodeTimestamp};

    use super::*;

    pub(super) fn define(c: &mut Criterion) {
        let mut group = c.benchmark_group("codec");
        let stamp = Hlc::new().now_with_node();
        group.bench_function("header_roundtrip", |b| {
            b.iter(|| {
                let stamp = black_box(stamp);
                let mut buf = [0u8; wire::TEXT_LEN];
                let text = black_box(stamp.encode_text(&mut buf));
                let parsed = NodeTimestamp::parse_text(text.as_bytes());
                assert_eq!(parsed, Ok(stamp));
            });
        });
        let uhlc_stamp = uhlc::HLC::default().new_timestamp();
        group.bench_function("uhlc_roundtrip", |b| {
            b.iter(|| {
                let stamp = black_box(uhlc_stamp);
                let text = black_box(stamp.to_string());
                let parsed = text.parse::<uhlc::Timestamp>();
                assert_eq!(parsed.ok(), Some(stamp));
            });
        });
        group.bench_function("bytes_roundtrip", |b| {
            b.iter(|| {
                let stamp = black_box(stamp);
                let bytes = black_box(stamp.to_bytes());
                assert_eq!(NodeTimestamp::from_bytes(&bytes), Ok(stamp));
            });
        });
        group.finish();
    }
}

criterion_group!(
    benches,
    stamping::define,
    merging::define,
    contended::define,
    codec::define
);
criterion_main!(benches);
