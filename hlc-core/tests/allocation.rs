//! The stamping path allocates nothing: `now`, `update` and encoding into a caller's buffer;
//! nor does reading the clock's health on the request path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hlc_core::health::{HealthBoard, UnhealthyReason};
use hlc_core::{wire, Hlc, NodeTimestamp, Timestamp};

struct Counting;

thread_local! {
    // Per thread: the test harness allocates on its own threads while a test runs.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations_on_this_thread() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: delegates every call to the system allocator unchanged; it only counts.
// The workspace denies unsafe code; a global allocator cannot be written without it.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: the slot is gone while the thread is being torn down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn stamping_and_encoding_do_not_allocate() {
    let hlc = Hlc::new();
    let remote = hlc.now();
    let mut text = [0u8; wire::TEXT_LEN];
    let before = allocations_on_this_thread();
    let mut checksum = 0u64;
    for _ in 0..10_000 {
        let t = hlc.now();
        let merged = hlc.update(remote).unwrap();
        let stamp = NodeTimestamp::new(merged, hlc.node_id());
        let encoded = stamp.encode_text(&mut text);
        let parsed = NodeTimestamp::parse_text(encoded.as_bytes()).unwrap();
        let bytes = parsed.to_bytes();
        let back = NodeTimestamp::from_bytes(&bytes).unwrap();
        checksum ^= t.as_u64() ^ back.timestamp.as_u64();
    }
    let after = allocations_on_this_thread();
    assert_ne!(checksum, Timestamp::ZERO.as_u64());
    assert_eq!(after - before, 0, "the stamping path allocated");
}

#[test]
fn reading_health_does_not_allocate() {
    let board = HealthBoard::new();
    let fenced = UnhealthyReason::Fenced {
        far: 3,
        fresh: 4,
        offset_ms: 900,
    };
    board.reporter("peers").report(fenced.into());
    let before = allocations_on_this_thread();
    let mut unhealthy = 0;
    for _ in 0..10_000 {
        unhealthy += usize::from(!board.is_healthy());
        assert_eq!(board.health().reason(), Some(fenced));
    }
    let after = allocations_on_this_thread();
    assert_eq!(unhealthy, 10_000);
    assert_eq!(after - before, 0, "reading health allocated");
}

#[test]
fn the_counter_does_count_allocations() {
    let before = allocations_on_this_thread();
    let text = Hlc::new().now_with_node().to_string();
    assert_eq!(text.len(), wire::TEXT_LEN);
    assert!(allocations_on_this_thread() > before);
}
