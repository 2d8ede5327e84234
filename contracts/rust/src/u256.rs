//! `U256`: Solidity's uint256. Four u64 limbs, least significant first; no u128, so no 128-bit compiler helpers are
//! linked in. `+`, `-` and `*` are checked like Solidity >= 0.8 (overflow reverts with `Panic(0x11)`); the
//! `overflowing_*` and `checked_*` methods give the raw results.

use core::cmp::Ordering;
use core::ops::{Add, Mul, Sub};

use crate::revert::{revert_panic, PANIC_DIV_ZERO, PANIC_OVERFLOW};

/// An unsigned 256-bit integer.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct U256(pub [u64; 4]);

impl U256 {
    pub const ZERO: U256 = U256([0; 4]);
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    pub const MAX: U256 = U256([u64::MAX; 4]);

    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    /// From a 32-byte big-endian word.
    pub fn from_be_bytes(be: &[u8; 32]) -> U256 {
        // Byte loops with constant bounds: no slicing, so no bounds checks or panic paths in the module.
        let mut r = [0u64; 4];
        for (i, b) in be.iter().enumerate() {
            let limb = &mut r[3 - i / 8];
            *limb = *limb << 8 | *b as u64;
        }
        U256(r)
    }

    /// To a 32-byte big-endian word.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = (self.0[3 - i / 8] >> (8 * (7 - i % 8))) as u8;
        }
        out
    }

    pub fn is_zero(&self) -> bool {
        (self.0[0] | self.0[1] | self.0[2] | self.0[3]) == 0
    }

    /// The value if it fits in a u64.
    pub fn as_u64(&self) -> Option<u64> {
        if (self.0[1] | self.0[2] | self.0[3]) == 0 {
            Some(self.0[0])
        } else {
            None
        }
    }

    /// `self + other` mod 2^256 and whether it overflowed.
    pub fn overflowing_add(self, other: U256) -> (U256, bool) {
        let mut r = self;
        let carry = r.add_assign_carry(&other);
        (r, carry)
    }

    /// `self - other` mod 2^256 and whether it borrowed (`other > self`).
    pub fn overflowing_sub(self, other: U256) -> (U256, bool) {
        let mut r = self;
        let borrow = r.sub_assign_borrow(&other);
        (r, borrow)
    }

    /// `self + other` mod 2^256 (for sums that cannot overflow, such as a balance below the total supply).
    pub fn wrapping_add(self, other: U256) -> U256 {
        let mut r = self;
        r.add_assign_carry(&other);
        r
    }

    /// `self - other` mod 2^256.
    pub fn wrapping_sub(self, other: U256) -> U256 {
        let mut r = self;
        r.sub_assign_borrow(&other);
        r
    }

    // In place and not inlined: one copy of each loop in the module, called by every operation that needs it.
    #[inline(never)]
    fn add_assign_carry(&mut self, other: &U256) -> bool {
        let mut carry = 0u64;
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            let s = a.wrapping_add(*b);
            let t = s.wrapping_add(carry);
            carry = ((s < *a) | (t < s)) as u64;
            *a = t;
        }
        carry != 0
    }

    #[inline(never)]
    fn sub_assign_borrow(&mut self, other: &U256) -> bool {
        let mut borrow = 0u64;
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            let d = a.wrapping_sub(*b);
            let t = d.wrapping_sub(borrow);
            borrow = ((*a < *b) | (d < borrow)) as u64;
            *a = t;
        }
        borrow != 0
    }

    /// `self * other` mod 2^256 and whether the true product needed more than 256 bits (schoolbook on 32-bit digits).
    pub fn overflowing_mul(self, other: U256) -> (U256, bool) {
        let (x, y) = (self.digits(), other.digits());
        let mut z = [0u32; 16];
        for i in 0..8 {
            if x[i] == 0 {
                continue;
            }
            let mut carry = 0u64;
            for j in 0..8 {
                let t = x[i] as u64 * y[j] as u64 + z[i + j] as u64 + carry;
                z[i + j] = t as u32;
                carry = t >> 32;
            }
            z[i + 8] = carry as u32;
        }
        let mut r = [0u64; 4];
        for (i, limb) in r.iter_mut().enumerate() {
            *limb = z[2 * i] as u64 | (z[2 * i + 1] as u64) << 32;
        }
        (U256(r), z[8..].iter().any(|&d| d != 0))
    }

    fn digits(&self) -> [u32; 8] {
        let mut d = [0u32; 8];
        for i in 0..4 {
            d[2 * i] = self.0[i] as u32;
            d[2 * i + 1] = (self.0[i] >> 32) as u32;
        }
        d
    }

    pub fn checked_add(self, other: U256) -> Option<U256> {
        let mut r = self;
        if r.add_assign_carry(&other) {
            None
        } else {
            Some(r)
        }
    }

    pub fn checked_sub(self, other: U256) -> Option<U256> {
        let mut r = self;
        if r.sub_assign_borrow(&other) {
            None
        } else {
            Some(r)
        }
    }

    pub fn checked_mul(self, other: U256) -> Option<U256> {
        match self.overflowing_mul(other) {
            (r, false) => Some(r),
            _ => None,
        }
    }

    /// `(self / d, self % d)`; a zero divisor reverts with `Panic(0x12)` as Solidity does.
    pub fn div_rem_u32(self, d: u32) -> (U256, u32) {
        if d == 0 {
            revert_panic(PANIC_DIV_ZERO);
        }
        let d = d as u64;
        let mut q = [0u64; 4];
        let mut rem = 0u64;
        for i in (0..4).rev() {
            let hi = rem << 32 | self.0[i] >> 32;
            rem = hi % d;
            let lo = rem << 32 | (self.0[i] & 0xffff_ffff);
            rem = lo % d;
            q[i] = (hi / d) << 32 | lo / d;
        }
        (U256(q), rem as u32)
    }

    /// The decimal digits of the value, written at the end of `buf` (78 bytes hold any U256); returns them.
    pub fn to_decimal<'a>(&self, buf: &'a mut [u8; 78]) -> &'a [u8] {
        let mut v = *self;
        let mut at = buf.len();
        loop {
            let (q, digit) = v.div_rem_u32(10);
            at -= 1;
            buf[at] = b'0' + digit as u8;
            v = q;
            if v.is_zero() {
                return &buf[at..];
            }
        }
    }
}

impl From<u64> for U256 {
    fn from(v: u64) -> U256 {
        U256::from_u64(v)
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &U256) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &U256) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

macro_rules! checked_op {
    ($trait:ident, $method:ident, $checked:ident) => {
        impl $trait for U256 {
            type Output = U256;
            /// Checked as Solidity >= 0.8 does: overflow reverts with `Panic(0x11)`.
            fn $method(self, other: U256) -> U256 {
                match self.$checked(other) {
                    Some(r) => r,
                    None => revert_panic(PANIC_OVERFLOW),
                }
            }
        }
    };
}
checked_op!(Add, add, checked_add);
checked_op!(Sub, sub, checked_sub);
checked_op!(Mul, mul, checked_mul);
