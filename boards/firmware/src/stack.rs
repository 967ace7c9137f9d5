//! Stack painting: how much stack the firmware used, measured.
//!
//! At start, [`paint`] fills the unused part of the stack region (from its
//! bottom up to just below the current frame) with [`PAINT`]; at the end,
//! [`Painted::high_water`] finds the lowest word that no longer holds the
//! pattern. Everything between it and the top of the stack was used at some
//! point. The stack region is what the runtime leaves after the statics:
//! from `heap_start()` (the end of `.bss`/`.uninit`; the heap is empty) to
//! `_stack_start` (the initial stack pointer, the top of RAM).
//!
//! This is the one place the firmware touches raw memory.

#[cfg(target_arch = "arm")]
use cortex_m_rt::heap_start;
#[cfg(target_arch = "riscv32")]
use riscv_rt::heap_start;

/// The fill pattern.
const PAINT: u32 = 0xC0DE_5A5A;

/// Bytes left unpainted below [`paint`]'s own local, for its frame.
const MARGIN: usize = 128;

unsafe extern "C" {
    /// Top of the stack (the initial stack pointer); both cortex-m-rt and
    /// riscv-rt define it. Only its address is used.
    static _stack_start: u32;
}

/// The painted stack region.
#[derive(Clone, Copy, Debug)]
pub struct Painted {
    bottom: usize,
    top: usize,
}

/// Paints the stack region below the caller's frame. Call it first thing.
#[inline(never)]
pub fn paint() -> Painted {
    let bottom = heap_start() as usize;
    let top = &raw const _stack_start as usize;
    let here = 0u32;
    let limit = (core::hint::black_box(&here) as *const u32 as usize - MARGIN) & !3;
    let mut p = bottom;
    while p < limit {
        // SAFETY: `[bottom, limit)` is word-aligned RAM between the end of
        // the statics and below this frame: no object lives there (no heap,
        // no interrupts), so writing it changes nothing the program sees.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    Painted { bottom, top }
}

impl Painted {
    /// Bytes of stack used so far: from the top down to the lowest word the
    /// program has written.
    pub fn high_water(&self) -> usize {
        let mut p = self.bottom;
        // SAFETY: `p` stays word-aligned inside the stack region, which is
        // RAM; the scan stops at the first word that is not the pattern, at
        // the latest this frame's. Reading stack memory changes nothing, and
        // no interrupt or other core writes it meanwhile.
        while p < self.top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
            p += 4;
        }
        self.top - p
    }

    /// Size of the stack region in bytes.
    pub fn region(&self) -> usize {
        self.top - self.bottom
    }
}
