//! Ending a call: success with return data, or a revert with `Error(string)`, `Panic(uint256)` or raw data.

use crate::host;
use crate::keccak::selector;

/// Solidity's panic codes (`Panic(uint256)`).
pub const PANIC_ASSERT: u32 = 0x01;
pub const PANIC_OVERFLOW: u32 = 0x11;
pub const PANIC_DIV_ZERO: u32 = 0x12;
pub const PANIC_OUT_OF_BOUNDS: u32 = 0x32;

const ERROR_SELECTOR: u32 = selector("Error(string)");
const PANIC_SELECTOR: u32 = selector("Panic(uint256)");

/// Stop successfully; the return data is `data`.
pub fn finish(data: &[u8]) -> ! {
    // SAFETY: the host reads `data` from this module's memory and never returns.
    unsafe { host::finish(data.as_ptr(), data.len() as u32) };
    core::arch::wasm32::unreachable()
}

/// Stop and undo this frame's state changes; the revert data is `data`.
pub fn revert(data: &[u8]) -> ! {
    // SAFETY: as finish.
    unsafe { host::revert(data.as_ptr(), data.len() as u32) };
    core::arch::wasm32::unreachable()
}

/// Revert with empty data, as Solidity does for malformed calldata, an unknown selector or value sent to a
/// non-payable function.
pub fn revert_empty() -> ! {
    revert(&[])
}

/// Revert with `Error(string)`: viem and ethers show `message` as the reason.
pub fn revert_error(message: &str) -> ! {
    revert_error_bytes(message.as_bytes())
}

/// `Error(string)` with a reason built at run time (UTF-8 is not checked).
#[inline(never)]
pub fn revert_error_bytes(msg: &[u8]) -> ! {
    let mut e = crate::abi::Encoder::call(ERROR_SELECTOR, 1, crate::abi::tail_size(msg.len()));
    e.bytes(0, msg);
    revert(e.as_bytes())
}

/// Revert with `Panic(uint256 code)` (see the `PANIC_*` codes).
#[inline(never)]
pub fn revert_panic(code: u32) -> ! {
    let mut e = crate::abi::Encoder::call(PANIC_SELECTOR, 1, 0);
    e.u64(0, code as u64);
    revert(e.as_bytes())
}

/// Solidity's `require(cond, "message")`.
#[inline(always)]
pub fn require(cond: bool, message: &str) {
    if !cond {
        revert_error(message)
    }
}
