//! Solidity ABI: decoding arguments (bounds-checked; malformed input reverts with empty data, as Solidity does)
//! and encoding return data, event data and calldata.

use crate::env::Address;
use crate::mem;
use crate::revert::{finish, revert_empty};
use crate::u256::U256;

/// An ABI-encoded tuple: a call's arguments (after the selector) or the constructor's arguments.
#[derive(Clone, Copy)]
pub struct Args {
    data: &'static [u8],
}

/// The selector of this call: the first 4 calldata bytes (shorter calldata reverts; there is no fallback).
pub fn call_selector() -> u32 {
    match mem::calldata() {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => revert_empty(),
    }
}

impl Args {
    /// A tuple over arbitrary bytes (the return data of another contract, for instance).
    pub fn new(data: &'static [u8]) -> Args {
        Args { data }
    }

    /// The arguments of this call (after the selector).
    pub fn call() -> Args {
        let cd = mem::calldata();
        if cd.len() < 4 {
            revert_empty()
        }
        Args { data: &cd[4..] }
    }

    /// The constructor's arguments: the whole calldata of `deploy`.
    pub fn deploy() -> Args {
        Args { data: mem::calldata() }
    }

    /// The raw encoded bytes.
    pub fn bytes_raw(&self) -> &'static [u8] {
        self.data
    }

    fn at(&self, offset: usize, len: usize) -> &'static [u8] {
        match offset.checked_add(len) {
            Some(end) if end <= self.data.len() => &self.data[offset..end],
            _ => revert_empty(),
        }
    }

    /// Head word `i` (the i-th static argument).
    pub fn word(&self, i: usize) -> &'static [u8; 32] {
        let w = self.at(i.saturating_mul(32), 32);
        // SAFETY: `at` returned exactly 32 bytes; [u8; 32] has alignment 1.
        unsafe { &*(w.as_ptr() as *const [u8; 32]) }
    }

    pub fn u256(&self, i: usize) -> U256 {
        U256::from_be_bytes(self.word(i))
    }

    /// A word that must fit in `bytes` low bytes (uint8, uint64, offsets…); anything else reverts.
    fn small(&self, i: usize, bytes: usize) -> u64 {
        let mut v = 0u64;
        for (k, &b) in self.word(i).iter().enumerate() {
            if k + bytes < 32 && b != 0 {
                revert_empty()
            }
            v = v << 8 | b as u64; // the bytes above `bytes` are zero, so they shift out
        }
        v
    }

    pub fn u64(&self, i: usize) -> u64 {
        self.small(i, 8)
    }

    pub fn u32(&self, i: usize) -> u32 {
        self.small(i, 4) as u32
    }

    pub fn u8(&self, i: usize) -> u8 {
        self.small(i, 1) as u8
    }

    pub fn bool(&self, i: usize) -> bool {
        match self.small(i, 1) {
            0 => false,
            1 => true,
            _ => revert_empty(),
        }
    }

    /// address: the top 12 bytes must be zero.
    pub fn address(&self, i: usize) -> Address {
        let w = self.word(i);
        let mut a = Address::ZERO;
        for (k, &b) in w.iter().enumerate() {
            match k.checked_sub(12) {
                Some(at) => a.0[at % 20] = b, // at < 20: the modulo only spares a bounds check
                None if b != 0 => revert_empty(),
                None => {}
            }
        }
        a
    }

    pub fn bytes32(&self, i: usize) -> [u8; 32] {
        *self.word(i)
    }

    /// bytes4 (an interface id): left-aligned, the other 28 bytes zero.
    pub fn bytes4(&self, i: usize) -> u32 {
        let w = self.word(i);
        if w[4..].iter().any(|&b| b != 0) {
            revert_empty()
        }
        u32::from_be_bytes([w[0], w[1], w[2], w[3]])
    }

    /// The tail of dynamic argument `i`: its element count, and `count * elem_size` bytes after the length word.
    fn dynamic(&self, i: usize, elem_size: usize) -> (usize, &'static [u8]) {
        let offset = self.small(i, 4) as usize;
        let count = Args { data: self.at(offset, 32) }.small(0, 4) as usize;
        (count, self.at(offset + 32, count.saturating_mul(elem_size)))
    }

    /// `bytes` argument, in place in the calldata.
    pub fn bytes(&self, i: usize) -> &'static [u8] {
        self.dynamic(i, 1).1
    }

    /// `string` argument (UTF-8 is not checked, as Solidity does not).
    pub fn string(&self, i: usize) -> &'static [u8] {
        self.bytes(i)
    }

    /// `uint256[]` / `bytes32[]` argument, in place.
    pub fn words(&self, i: usize) -> &'static [[u8; 32]] {
        let (count, data) = self.dynamic(i, 32);
        // SAFETY: `data` is count * 32 bytes; [u8; 32] has alignment 1.
        unsafe { core::slice::from_raw_parts(data.as_ptr() as *const [u8; 32], count) }
    }

    /// `int8[]` argument, decoded (each element must be a sign-extended int8).
    pub fn int8_array(&self, i: usize) -> &'static [i8] {
        let words = self.words(i);
        let out = mem::alloc(words.len());
        for (o, w) in out.iter_mut().zip(words) {
            let fill = if w[31] & 0x80 != 0 { 0xff } else { 0 };
            if w[..31].iter().any(|&b| b != fill) {
                revert_empty()
            }
            *o = w[31];
        }
        // SAFETY: u8 and i8 have the same layout.
        unsafe { core::slice::from_raw_parts(out.as_ptr() as *const i8, out.len()) }
    }
}

/// Bytes a `bytes`/`string` of `len` bytes takes in an encoding's tail (length word + padded data).
pub const fn tail_size(len: usize) -> usize {
    32 + ((len + 31) & !31)
}

/// An encoder for a tuple of `heads` values: static values fill their head word; dynamic ones (bytes, string) put
/// an offset there and their data in the tail. `prefix` bytes (a selector, for calldata) may come first.
pub struct Encoder {
    buf: &'static mut [u8],
    prefix: usize,
    heads: usize,
    len: usize,
}

impl Encoder {
    /// `tail_capacity`: the bytes reserved for dynamic values (sum of `tail_size` of each).
    pub fn new(heads: usize, tail_capacity: usize) -> Encoder {
        Encoder { buf: mem::alloc(heads * 32 + tail_capacity), prefix: 0, heads, len: heads * 32 }
    }

    /// Calldata for a call to `selector` with `heads` arguments.
    pub fn call(selector: u32, heads: usize, tail_capacity: usize) -> Encoder {
        let buf = mem::alloc(4 + heads * 32 + tail_capacity);
        buf[..4].copy_from_slice(&selector.to_be_bytes());
        Encoder { buf, prefix: 4, heads, len: heads * 32 }
    }

    fn head(&mut self, i: usize) -> &mut [u8] {
        assert!(i < self.heads);
        let at = self.prefix + 32 * i;
        &mut self.buf[at..at + 32]
    }

    pub fn word(&mut self, i: usize, w: &[u8; 32]) -> &mut Encoder {
        self.head(i).copy_from_slice(w);
        self
    }

    pub fn u256(&mut self, i: usize, v: U256) -> &mut Encoder {
        self.word(i, &v.to_be_bytes())
    }

    pub fn u64(&mut self, i: usize, v: u64) -> &mut Encoder {
        self.head(i)[24..].copy_from_slice(&v.to_be_bytes());
        self
    }

    pub fn bool(&mut self, i: usize, v: bool) -> &mut Encoder {
        self.u64(i, v as u64)
    }

    pub fn address(&mut self, i: usize, a: &Address) -> &mut Encoder {
        self.word(i, &a.to_word())
    }

    /// A `bytes` or `string` value.
    pub fn bytes(&mut self, i: usize, data: &[u8]) -> &mut Encoder {
        let offset = self.len;
        self.u64(i, offset as u64);
        let at = self.prefix + offset;
        self.buf[at + 28..at + 32].copy_from_slice(&(data.len() as u32).to_be_bytes());
        self.buf[at + 32..at + 32 + data.len()].copy_from_slice(data);
        self.len += tail_size(data.len());
        self
    }

    /// A `uint256[]` or `bytes32[]` value: laid out as `bytes` of 32·n bytes, but its length word counts elements.
    pub fn words(&mut self, i: usize, words: &[[u8; 32]]) -> &mut Encoder {
        // SAFETY: [[u8; 32]] is words.len() * 32 contiguous bytes.
        let flat = unsafe { core::slice::from_raw_parts(words.as_ptr() as *const u8, words.len() * 32) };
        let at = self.prefix + self.len;
        self.bytes(i, flat);
        self.buf[at + 28..at + 32].copy_from_slice(&(words.len() as u32).to_be_bytes());
        self
    }

    /// The encoding (with its prefix).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.prefix + self.len]
    }
}

/// A `bytes` or `string` return value.
pub struct Bytes<'a>(pub &'a [u8]);

/// A static ABI value: one 32-byte word.
pub trait AbiWord {
    fn abi_word(&self) -> [u8; 32];
}

impl AbiWord for [u8; 32] {
    fn abi_word(&self) -> [u8; 32] {
        *self
    }
}

impl AbiWord for U256 {
    fn abi_word(&self) -> [u8; 32] {
        self.to_be_bytes()
    }
}

impl AbiWord for Address {
    fn abi_word(&self) -> [u8; 32] {
        self.to_word()
    }
}

macro_rules! small_word {
    ($($t:ty),*) => {$(
        impl AbiWord for $t {
            fn abi_word(&self) -> [u8; 32] {
                U256::from_u64(*self as u64).to_be_bytes()
            }
        }
    )*};
}
small_word!(bool, u8, u32, u64);

/// int256: two's complement, sign-extended.
impl AbiWord for i64 {
    fn abi_word(&self) -> [u8; 32] {
        let mut w = [if *self < 0 { 0xff } else { 0 }; 32];
        w[24..].copy_from_slice(&self.to_be_bytes());
        w
    }
}

/// What a function of a `contract!` or `dispatch!` may return: it is ABI-encoded as the call's return data. Any
/// static value (`AbiWord`), a pair or triple of them, `()`, `Bytes` or an `Encoder`.
pub trait AbiReturn {
    fn finish(self) -> !;
}

impl<T: AbiWord> AbiReturn for T {
    fn finish(self) -> ! {
        finish(&self.abi_word())
    }
}

impl<A: AbiWord, B: AbiWord> AbiReturn for (A, B) {
    fn finish(self) -> ! {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.0.abi_word());
        out[32..].copy_from_slice(&self.1.abi_word());
        finish(&out)
    }
}

impl<A: AbiWord, B: AbiWord, C: AbiWord> AbiReturn for (A, B, C) {
    fn finish(self) -> ! {
        let mut out = [0u8; 96];
        out[..32].copy_from_slice(&self.0.abi_word());
        out[32..64].copy_from_slice(&self.1.abi_word());
        out[64..].copy_from_slice(&self.2.abi_word());
        finish(&out)
    }
}

impl AbiReturn for () {
    fn finish(self) -> ! {
        finish(&[])
    }
}

/// An encoded tuple (several return values, or a dynamic one built in place).
impl AbiReturn for Encoder {
    fn finish(self) -> ! {
        finish(self.as_bytes())
    }
}

impl AbiReturn for Bytes<'_> {
    fn finish(self) -> ! {
        let mut e = Encoder::new(1, tail_size(self.0.len()));
        e.bytes(0, self.0);
        e.finish()
    }
}
