//! A counting global allocator, so the benchmarks can report heap allocations per decision for
//! every engine (mcppol's must be zero).
//!
//! Counting is off unless [`count`] is running: then one relaxed atomic load per allocation is
//! all the peers pay during timing, which is noise next to the allocation itself.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

struct Counting;

static ENABLED: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

#[expect(unsafe_code, reason = "a global allocator is an unsafe trait; this one only counts")]
// SAFETY: every method forwards to `System` with the same arguments; counting has no effect on
// the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `work` `times` times with counting on, and returns the allocations per run (an
/// allocation or a reallocation counts one; frees are not counted).
pub fn count(times: u64, mut work: impl FnMut()) -> f64 {
    ALLOCATIONS.store(0, Ordering::Relaxed);
    ENABLED.store(true, Ordering::Relaxed);
    for _ in 0..times {
        work();
    }
    ENABLED.store(false, Ordering::Relaxed);
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let per_run = ALLOCATIONS.load(Ordering::Relaxed) as f64 / times.max(1) as f64;
    per_run
}
