//! The seeded generator: xoshiro128++ (Blackman & Vigna), 32-bit operations
//! only, so it is as cheap on a Cortex-M0 as on the host and gives the same
//! stream everywhere.
//!
//! ```
//! use rand_core::RngCore;
//! let mut a = tcbg::rng::Rng::seed(7);
//! let mut b = tcbg::rng::Rng::seed(7);
//! assert_eq!(a.next_u32(), b.next_u32());
//! ```

use rand_core::RngCore;

/// xoshiro128++ with a 128-bit state, seeded from a `u64` through a 32-bit mixer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rng {
    s: [u32; 4],
}

/// murmur3's 32-bit finaliser: a bijection that spreads every input bit.
#[inline]
const fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

impl Rng {
    /// A generator for `seed`; `stream` separates independent streams drawn
    /// from the same seed (exploration, rounding dither, the task).
    pub const fn seed_stream(seed: u64, stream: u32) -> Rng {
        let lo = seed as u32;
        let hi = (seed >> 32) as u32;
        let mut s = [0u32; 4];
        let mut i = 0;
        while i < 4 {
            let k = (i as u32).wrapping_mul(0x9e37_79b9) ^ stream.wrapping_mul(0x7f4a_7c15);
            s[i] = fmix32(lo ^ fmix32(hi.wrapping_add(k)).wrapping_add(k));
            i += 1;
        }
        if s[0] | s[1] | s[2] | s[3] == 0 {
            s[0] = 1; // the all-zero state is a fixed point
        }
        Rng { s }
    }

    /// A generator for `seed` (stream 0).
    pub const fn seed(seed: u64) -> Rng {
        Rng::seed_stream(seed, 0)
    }

    /// The next 32 random bits (also `RngCore::next_u32`).
    #[inline]
    #[allow(clippy::should_implement_trait)] // a generator's word, not an Iterator
    pub fn next(&mut self) -> u32 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        out
    }

    /// A uniform index in `0..n` for `n <= 65536`, without division.
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        ((self.next() >> 16) * n) >> 16
    }

    /// `true` with probability `p_q16 / 65536`.
    #[inline]
    pub fn chance(&mut self, p_q16: u32) -> bool {
        (self.next() >> 16) < p_q16
    }

    /// The raw state (for snapshots).
    pub fn state(&self) -> [u32; 4] {
        self.s
    }

    /// A generator from a raw state; `None` for the all-zero state, which
    /// xoshiro never leaves.
    pub fn from_state(s: [u32; 4]) -> Option<Rng> {
        if s == [0; 4] {
            None
        } else {
            Some(Rng { s })
        }
    }
}

impl RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.next()
    }
    fn next_u64(&mut self) -> u64 {
        let lo = self.next() as u64;
        let hi = self.next() as u64;
        lo | (hi << 32)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(4) {
            let b = self.next().to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let mut a = Rng::seed_stream(1, 0);
        let mut b = Rng::seed_stream(1, 1);
        let mut c = Rng::seed_stream(1, 0);
        let xa: [u32; 4] = core::array::from_fn(|_| a.next());
        let xb: [u32; 4] = core::array::from_fn(|_| b.next());
        let xc: [u32; 4] = core::array::from_fn(|_| c.next());
        assert_ne!(xa, xb);
        assert_eq!(xa, xc);
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = Rng::seed(3);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.below(3) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}
