//! Test-only contract (not an example, not deployed): an ERC-721 recipient for tests/erc721.e2e.test.ts. It accepts
//! a token by answering onERC721Received with that function's selector and records what it was told in a
//! `Received` event; it refuses token 13 with a reason, which safeTransferFrom must pass on.
#![no_std]

use rustchain_sdk::prelude::*;

const RECEIVED: [u8; 32] = event_topic("Received(address,address,uint256,bytes)");

contract! {
    "onERC721Received(address,address,uint256,bytes)"(args) => {
        let (operator, from, id, data) = (args.address(0), args.address(1), args.u256(2), args.bytes(3));
        require(id != U256::from_u64(13), "Receiver: not token 13");
        let mut event = Encoder::new(1, tail_size(data.len()));
        event.bytes(0, data);
        emit_log(&[RECEIVED, operator.to_word(), from.to_word(), id.to_be_bytes()], event.as_bytes());
        let mut answer = [0u8; 32]; // bytes4, left-aligned
        answer[..4].copy_from_slice(&selector("onERC721Received(address,address,uint256,bytes)").to_be_bytes());
        answer
    },
}
