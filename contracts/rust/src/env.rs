//! The call's context (caller, value, block), accounts, hashes, signatures, events and calls to other contracts.

use crate::host;
use crate::u256::U256;

/// A 20-byte Ethereum address.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub const ZERO: Address = Address([0; 20]);

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// Left-padded to a word, as ABI encoding, storage keys and event topics hold it.
    pub fn to_word(&self) -> [u8; 32] {
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(&self.0);
        w
    }
}

macro_rules! address_fn {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name() -> Address {
            let mut a = Address::ZERO;
            // SAFETY: the host writes 20 bytes.
            unsafe { host::$name(a.0.as_mut_ptr()) };
            a
        }
    };
}
address_fn!(
    /// `msg.sender`.
    caller
);
address_fn!(
    /// `tx.origin`.
    origin
);
address_fn!(
    /// `address(this)`.
    self_address
);

/// `msg.value`.
pub fn call_value() -> U256 {
    let mut w = [0u8; 32];
    // SAFETY: the host writes 32 bytes.
    unsafe { host::call_value(w.as_mut_ptr()) };
    U256::from_be_bytes(&w)
}

/// Solidity's check for a non-payable function: revert with empty data if any value was sent.
pub fn nonpayable() {
    let mut w = [0u8; 32];
    // SAFETY: the host writes 32 bytes.
    unsafe { host::call_value(w.as_mut_ptr()) };
    if w.iter().any(|&b| b != 0) {
        crate::revert::revert_empty()
    }
}

pub fn block_number() -> u64 {
    // SAFETY: no pointers.
    unsafe { host::block_number() as u64 }
}

pub fn block_timestamp() -> u64 {
    // SAFETY: no pointers.
    unsafe { host::block_timestamp() as u64 }
}

pub fn chain_id() -> u64 {
    // SAFETY: no pointers.
    unsafe { host::chain_id() as u64 }
}

pub fn gas_left() -> u64 {
    // SAFETY: no pointers.
    unsafe { host::gas_left() as u64 }
}

/// The balance of an account, in wei.
pub fn balance(account: &Address) -> U256 {
    let mut w = [0u8; 32];
    // SAFETY: 20 bytes in, 32 out.
    unsafe { host::balance(account.0.as_ptr(), w.as_mut_ptr()) };
    U256::from_be_bytes(&w)
}

/// EXTCODEHASH: keccak256 of the account's code (the module); 32 zero bytes for an account without code.
pub fn code_hash(account: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    // SAFETY: 20 bytes in, 32 out.
    unsafe { host::code_hash(account.0.as_ptr(), w.as_mut_ptr()) };
    w
}

/// Whether the account has code. A call to an account without code succeeds with empty return data, so check
/// before trusting a callee's answer.
pub fn has_code(account: &Address) -> bool {
    code_hash(account) != [0u8; 32]
}

macro_rules! hash_fn {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name(data: &[u8]) -> [u8; 32] {
            let mut out = [0u8; 32];
            // SAFETY: the host reads `data` and writes 32 bytes.
            unsafe { host::$name(data.as_ptr(), data.len() as u32, out.as_mut_ptr()) };
            out
        }
    };
}
hash_fn!(
    /// Keccak-256 (the host's; for constants use `selector` / `event_topic`, evaluated by the compiler).
    keccak256
);
hash_fn!(
    /// BLAKE3.
    blake3
);
hash_fn!(
    /// SHA-256.
    sha256
);

/// The Ethereum address that signed `hash` (no message prefix); `sig` = r ‖ s ‖ v with v the recovery id 0 or 1.
/// `None` for an invalid or high-s signature (never a trap).
pub fn secp256k1_recover(hash: &[u8; 32], sig: &[u8; 65]) -> Option<Address> {
    let mut a = Address::ZERO;
    // SAFETY: 32 + 65 bytes in, 20 out.
    let ok = unsafe { host::secp256k1_recover(hash.as_ptr(), sig.as_ptr(), a.0.as_mut_ptr()) };
    if ok == 1 {
        Some(a)
    } else {
        None
    }
}

/// Emit an Ethereum log: `topics` (0 to 4: the event's `event_topic` first, then the indexed arguments as words)
/// and the ABI-encoded non-indexed arguments as `data`.
pub fn emit_log(topics: &[[u8; 32]], data: &[u8]) {
    if topics.len() > 4 {
        crate::revert::revert_panic(crate::revert::PANIC_ASSERT);
    }
    // SAFETY: [[u8; 32]] is laid out as topics.len() * 32 contiguous bytes.
    unsafe { host::emit_log(topics.as_ptr() as *const u8, topics.len() as u32, data.as_ptr(), data.len() as u32) };
}

/// How a call to another account ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    Success,
    /// The callee reverted; `returndata()` holds its revert data.
    Revert,
    /// Trap, out of gas, depth limit…
    Failure,
}

/// Call `to` with `value` wei, at most `gas` gas and `data` as calldata. Read the answer with `returndata()`.
pub fn call_contract(to: &Address, value: U256, gas: u64, data: &[u8]) -> CallStatus {
    let v = value.to_be_bytes();
    // SAFETY: the host reads 20 + 32 bytes and `data`.
    let status = unsafe { host::call(to.0.as_ptr(), v.as_ptr(), gas as i64, data.as_ptr(), data.len() as u32) };
    match status {
        0 => CallStatus::Success,
        1 => CallStatus::Revert,
        _ => CallStatus::Failure,
    }
}

/// The return (or revert) data of the last call, copied into fresh memory.
pub fn returndata() -> &'static [u8] {
    // SAFETY: the host writes exactly returndata_size() bytes.
    unsafe {
        let len = host::returndata_size() as usize;
        let buf = crate::mem::alloc(len);
        if len > 0 {
            host::returndata_copy(buf.as_mut_ptr(), 0, len as u32);
        }
        buf
    }
}
