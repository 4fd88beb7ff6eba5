//! Heap allocation counting for the `ctwiz bench` figures (allocations per
//! forecast). The binary's global allocator is mimalloc with a counter in
//! front (glibc's malloc cost a fifth of an HL7 import's instructions); the
//! counter only runs while a bench asks for it ([`count`]), so every other
//! command pays one relaxed load per allocation.
//! It lives in the binary, never in a library crate that embedders link.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// mimalloc, counting allocations and reallocations while
/// [`count`] runs.
pub struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

fn note() {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards unchanged to mimalloc; counting
// touches only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's layout, unchanged, to mimalloc.
        unsafe { MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `MiMalloc` with this layout.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` was allocated by `MiMalloc` with this layout.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` with counting on and returns its result with the number of heap
/// allocations (and reallocations) made meanwhile, by any thread: run it on
/// one thread with nothing else going on for a per-operation figure.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    let result = f();
    COUNTING.store(false, Ordering::SeqCst);
    (result, ALLOCATIONS.load(Ordering::Relaxed) - before)
}
