//! The bytes each thread holds: the process allocator (the system one) wrapped to count, per
//! thread, bytes allocated minus bytes freed on that thread. A chart render runs on one thread
//! and frees what it made on that thread, so the difference between two readings is what the
//! render holds ([`crate::render::budget`] bounds it with `release.renderMaxMemory`).
//!
//! The counter is a constant-initialised thread-local without a destructor, so reading it never
//! allocates (a requirement of `GlobalAlloc`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static HELD: Cell<i64> = const { Cell::new(0) };
}

/// The system allocator, counting per thread.
pub struct Counting;

fn add(n: i64) {
    // `try_with`: during thread teardown the slot may be gone; such bytes are not counted.
    let _ = HELD.try_with(|h| h.set(h.get().wrapping_add(n)));
}

// SAFETY: every call is forwarded unchanged to `System`; the counting touches only a
// thread-local `Cell<i64>` and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Bytes allocated minus bytes freed on this thread since it started (may be negative when it
/// freed what another thread made).
pub fn held() -> i64 {
    HELD.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_what_this_thread_holds() {
        let before = super::held();
        let v = vec![0u8; 10 << 20];
        assert!(super::held() - before >= 10 << 20);
        drop(v);
        assert!(super::held() - before < 1 << 20);
    }
}
