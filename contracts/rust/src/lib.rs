//! rustchain-sdk: write RustChain contracts in Rust (`no_std`, no dependencies).
//!
//! A contract is one `cdylib` crate compiled to wasm32 that exports `call` (and optionally `deploy`). Its interface
//! is Ethereum's (docs/runtime.md): ABI-encoded calldata and return data, `Error(string)` reverts, Ethereum logs, and
//! Solidity's storage layout, so viem, ethers and `eth_getStorageAt` tooling use it as they use a Solidity contract.
//!
//! ```ignore
//! #![no_std]
//! use rustchain_sdk::prelude::*;
//!
//! const VALUE: Slot = Slot::new(0);
//! const SET: [u8; 32] = event_topic("Set(address,uint256)");
//!
//! contract! {
//!     constructor(args) { VALUE.store_u256(args.u256(0)); }
//!     "get()"(_args) => VALUE.load_u256(),
//!     "set(uint256)"(args) => {
//!         let v = args.u256(0);
//!         require(!v.is_zero(), "Store: zero");
//!         VALUE.store_u256(v);
//!         emit_log(&[SET, caller().to_word()], &v.to_be_bytes());
//!     },
//! }
//! ```
//!
//! Selectors and topics are computed by the compiler from the signatures (`selector`, `event_topic`), and
//! `npm run contracts:build` checks that the functions a contract dispatches and the events it emits are exactly
//! those of its `<name>.abi.json`.
#![no_std]

pub mod abi;
pub mod ai;
pub mod env;
pub mod host;
mod keccak;
pub mod mem;
pub mod revert;
pub mod storage;
pub mod u256;

pub use keccak::{const_keccak256, event_topic, selector};

/// Everything a contract usually needs.
pub mod prelude {
    pub use crate::abi::{call_selector, tail_size, AbiReturn, AbiWord, Args, Bytes, Encoder};
    pub use crate::env::{
        balance, block_number, block_timestamp, call_contract, call_value, caller, chain_id, code_hash, emit_log, gas_left,
        has_code, keccak256, nonpayable, origin, returndata, self_address, Address, CallStatus,
    };
    pub use crate::revert::{finish, require, revert, revert_empty, revert_error, revert_error_bytes, revert_panic};
    pub use crate::storage::Slot;
    pub use crate::u256::U256;
    pub use crate::{contract, dispatch, event_topic, selector};
}

/// Dispatches `selector` over functions given by their Solidity signature; the matching arm's value is ABI-encoded
/// as the return data (see `AbiReturn`) and ends the call. Falls through (does nothing) when no signature matches,
/// so a contract can try several groups of functions, like `erc20_dispatch` in the C SDK.
///
/// ```ignore
/// dispatch!(call_selector(), Args::call(), {
///     "totalSupply()"(_) => TOTAL_SUPPLY.load_u256(),
///     "balanceOf(address)"(args) => balance_of(&args.address(0)),
/// });
/// ```
#[macro_export]
macro_rules! dispatch {
    ($selector:expr, $args:expr, { $($sig:literal ($arg:pat) => $body:expr),* $(,)? }) => {{
        let __selector: u32 = $selector;
        let __args: $crate::abi::Args = $args;
        $(
            // A const item, so the compiler (not the contract) hashes the signature.
            if __selector == { const SELECTOR: u32 = $crate::selector($sig); SELECTOR } {
                let $arg = __args;
                $crate::abi::AbiReturn::finish($body)
            }
        )*
    }};
}

/// Defines a contract's entry points: `deploy` (when a `constructor` is given: its arguments are the calldata) and
/// `call`, which dispatches on the selector (see `dispatch!`). Both are non-payable (value sent reverts, as in
/// Solidity); an unknown selector or calldata shorter than 4 bytes reverts with empty data (there is no fallback).
/// A contract that needs payable functions or a fallback writes its own `#[no_mangle] pub extern "C" fn call()`
/// around `dispatch!`.
#[macro_export]
macro_rules! contract {
    (
        $(constructor($cargs:pat) $ctor:block)?
        $($sig:literal ($arg:pat) => $body:expr),* $(,)?
    ) => {
        $(
            #[no_mangle]
            pub extern "C" fn deploy() {
                $crate::env::nonpayable();
                let $cargs: $crate::abi::Args = $crate::abi::Args::deploy();
                $ctor
            }
        )?

        #[no_mangle]
        #[allow(unreachable_code)] // a function body may itself end the call (`revert`, `Encoder::finish`)
        pub extern "C" fn call() {
            let selector = $crate::abi::call_selector();
            $crate::env::nonpayable();
            $crate::dispatch!(selector, $crate::abi::Args::call(), { $($sig ($arg) => $body),* });
            $crate::revert::revert_empty()
        }
    };
}
