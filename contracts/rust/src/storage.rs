//! Storage with Solidity's layout, so eth_getStorageAt tooling reads a contract as it reads its Solidity twin:
//! state variable n at slot n, `mapping(K => V)` at slot p keeps key k at keccak256(k ‖ p), and `bytes`/`string`
//! hold short values (< 32 bytes) in the slot with 2·len in its last byte, long ones as 2·len+1 in the slot and the
//! data in consecutive slots from keccak256(p).

use crate::env::{keccak256, Address};
use crate::host;
use crate::mem;
use crate::u256::U256;

/// A storage slot (a 32-byte key).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Slot(pub [u8; 32]);

impl Slot {
    /// The slot of the state variable declared at position `n`.
    pub const fn new(n: u64) -> Slot {
        let b = n.to_be_bytes();
        let mut w = [0u8; 32];
        let mut i = 0;
        while i < 8 {
            w[24 + i] = b[i];
            i += 1;
        }
        Slot(w)
    }

    /// The slot of `key` (a word) in the mapping at this slot: keccak256(key ‖ slot).
    pub fn mapping(&self, key: &[u8; 32]) -> Slot {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(key);
        buf[32..].copy_from_slice(&self.0);
        Slot(keccak256(&buf))
    }

    /// `mapping(address => V)`.
    pub fn at_address(&self, key: &Address) -> Slot {
        self.mapping(&key.to_word())
    }

    /// `mapping(uint256 => V)`.
    pub fn at_u256(&self, key: U256) -> Slot {
        self.mapping(&key.to_be_bytes())
    }

    /// The k-th slot after this one (struct fields, array elements).
    pub fn offset(&self, k: u32) -> Slot {
        Slot(U256::from_be_bytes(&self.0).wrapping_add(U256::from_u64(k as u64)).to_be_bytes())
    }

    pub fn load(&self) -> [u8; 32] {
        let mut w = [0u8; 32];
        // SAFETY: 32 bytes in, 32 out.
        unsafe { host::storage_read(self.0.as_ptr(), w.as_mut_ptr()) };
        w
    }

    pub fn store(&self, value: &[u8; 32]) {
        // SAFETY: 32 + 32 bytes in.
        unsafe { host::storage_write(self.0.as_ptr(), value.as_ptr()) };
    }

    pub fn load_u256(&self) -> U256 {
        U256::from_be_bytes(&self.load())
    }

    pub fn store_u256(&self, v: U256) {
        self.store(&v.to_be_bytes())
    }

    /// An address in the low 20 bytes of the slot (Solidity packs nothing else next to it here).
    pub fn load_address(&self) -> Address {
        let w = self.load();
        let mut a = Address::ZERO;
        a.0.copy_from_slice(&w[12..]);
        a
    }

    pub fn store_address(&self, a: &Address) {
        self.store(&a.to_word())
    }

    pub fn load_bool(&self) -> bool {
        self.load()[31] != 0
    }

    pub fn store_bool(&self, v: bool) {
        self.store_u256(U256::from_u64(v as u64))
    }

    /// The length of the `bytes`/`string` at this slot.
    fn bytes_len(w: &[u8; 32]) -> usize {
        if w[31] & 1 == 0 {
            return (w[31] >> 1) as usize;
        }
        match U256::from_be_bytes(w).as_u64() {
            Some(v) if v < 1 << 32 => (v >> 1) as usize,
            _ => core::arch::wasm32::unreachable(),
        }
    }

    /// The `bytes`/`string` stored at this slot, in fresh memory.
    pub fn load_bytes(&self) -> &'static [u8] {
        let w = self.load();
        let out = mem::alloc(Self::bytes_len(&w));
        if out.len() < 32 {
            mem::copy_prefix(out, &w);
            return out;
        }
        let base = Slot(keccak256(&self.0));
        for (i, chunk) in out.chunks_mut(32).enumerate() {
            mem::copy_prefix(chunk, &base.offset(i as u32).load());
        }
        out
    }

    /// Store `bytes`/`string` at this slot; the slots of a previous, longer value are cleared.
    pub fn store_bytes(&self, data: &[u8]) {
        let slots = |len: usize| if len >= 32 { (len + 31) / 32 } else { 0 };
        let old_slots = slots(Self::bytes_len(&self.load()));
        let mut w = [0u8; 32];
        if data.len() < 32 {
            mem::copy_prefix(&mut w, data);
            w[31] = (data.len() * 2) as u8;
        } else {
            w = U256::from_u64(data.len() as u64 * 2 + 1).to_be_bytes();
        }
        self.store(&w);
        let new_slots = slots(data.len());
        if new_slots == 0 && old_slots == 0 {
            return;
        }
        let base = Slot(keccak256(&self.0));
        let mut parts = data.chunks(32);
        for i in 0..new_slots.max(old_slots) {
            let mut chunk = [0u8; 32];
            if i < new_slots {
                mem::copy_prefix(&mut chunk, parts.next().unwrap_or(&[]));
            }
            base.offset(i as u32).store(&chunk);
        }
    }
}
