//! Test-only contract (not an example, not deployed): the Rust twin of contracts/test/sdk_selftest.c. It exposes the
//! SDK's U256 arithmetic, ABI decoding and encoding and storage helpers through the same ABI (in the test, viem
//! parseAbi), so contracts/sdk.test.ts checks both SDKs against BigInt and viem with the same tests.
#![no_std]

use rustchain_sdk::prelude::*;

fn order(a: U256, b: U256) -> i64 {
    match a.cmp(&b) {
        core::cmp::Ordering::Less => -1,
        core::cmp::Ordering::Equal => 0,
        core::cmp::Ordering::Greater => 1,
    }
}

contract! {
    "add(uint256,uint256)"(args) => args.u256(0).overflowing_add(args.u256(1)),
    "sub(uint256,uint256)"(args) => args.u256(0).overflowing_sub(args.u256(1)),
    "mul(uint256,uint256)"(args) => args.u256(0).overflowing_mul(args.u256(1)),
    "divmod(uint256,uint32)"(args) => {
        let (q, r) = args.u256(0).div_rem_u32(args.u32(1));
        (q, r as u64)
    },
    "cmp(uint256,uint256)"(args) => order(args.u256(0), args.u256(1)),
    "echo(bytes,string,address,bool,uint8)"(args) => {
        let (b, s) = (args.bytes(0), args.string(1));
        let mut out = Encoder::new(5, tail_size(b.len()) + tail_size(s.len()));
        out.bytes(0, b).bytes(1, s).address(2, &args.address(2)).bool(3, args.bool(3)).u64(4, args.u8(4) as u64);
        out
    },
    "sumInt8(int8[])"(args) => args.int8_array(0).iter().map(|&x| x as i64).sum::<i64>(),
    "sumWords(uint256[])"(args) => {
        let mut sum = U256::ZERO;
        let mut overflow = false;
        for w in args.words(0) {
            let (s, o) = sum.overflowing_add(U256::from_be_bytes(w));
            sum = s;
            overflow |= o;
        }
        (sum, overflow)
    },
    "echoWords(uint256[],bytes)"(args) => {
        let (xs, b) = (args.words(0), args.bytes(1));
        let mut out = Encoder::new(2, tail_size(32 * xs.len()) + tail_size(b.len()));
        out.words(0, xs).bytes(1, b);
        out
    },
    "storeBytes(uint256,bytes)"(args) => Slot(args.bytes32(0)).store_bytes(args.bytes(1)),
    "loadBytes(uint256)"(args) => Bytes(Slot(args.bytes32(0)).load_bytes()),
    "nested(address,address)"(args) => Slot::new(1).at_address(&args.address(0)).at_address(&args.address(1)).0,
    "fail(string)"(args) => revert_error_bytes(args.string(0)),
    "panic(uint256)"(args) => revert_panic(args.u32(0)),
}
