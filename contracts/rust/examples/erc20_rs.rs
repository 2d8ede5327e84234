//! ERC-20 token (EIP-20) in Rust: the twin of contracts/examples/erc20.c (logic in contracts/sdk/erc20_core.h),
//! with the same ABI (erc20_rs.abi.json is a link to the C contract's), events, revert reasons and storage layout
//! (OpenZeppelin's):
//!   0 mapping(address => uint256) balances      3 string name
//!   1 mapping(address => mapping(address => uint256)) allowances
//!   2 uint256 totalSupply                        4 string symbol       5 uint8 decimals
//!
//! constructor(string name, string symbol, uint8 decimals, uint256 initialSupply): mints to the deployer.
#![no_std]

use rustchain_sdk::prelude::*;

const BALANCES: Slot = Slot::new(0);
const ALLOWANCES: Slot = Slot::new(1);
const TOTAL_SUPPLY: Slot = Slot::new(2);
const NAME: Slot = Slot::new(3);
const SYMBOL: Slot = Slot::new(4);
const DECIMALS: Slot = Slot::new(5);

const TRANSFER: [u8; 32] = event_topic("Transfer(address,address,uint256)");
const APPROVAL: [u8; 32] = event_topic("Approval(address,address,uint256)");

fn allowance_slot(owner: &Address, spender: &Address) -> Slot {
    ALLOWANCES.at_address(owner).at_address(spender)
}

/// Transfer / Approval: two indexed addresses, the amount as data.
fn emit_pair(topic: [u8; 32], a: &Address, b: &Address, amount: U256) {
    emit_log(&[topic, a.to_word(), b.to_word()], &amount.to_be_bytes());
}

fn transfer(from: &Address, to: &Address, amount: U256) {
    require(!from.is_zero(), "ERC20: transfer from the zero address");
    require(!to.is_zero(), "ERC20: transfer to the zero address");
    let from_slot = BALANCES.at_address(from);
    match from_slot.load_u256().checked_sub(amount) {
        Some(rest) => from_slot.store_u256(rest),
        None => revert_error("ERC20: transfer amount exceeds balance"),
    }
    // Cannot overflow: all balances sum to totalSupply, checked at mint. Read after the write, so a self-transfer
    // changes nothing.
    let to_slot = BALANCES.at_address(to);
    to_slot.store_u256(to_slot.load_u256().wrapping_add(amount));
    emit_pair(TRANSFER, from, to, amount);
}

fn approve(owner: &Address, spender: &Address, amount: U256) {
    require(!owner.is_zero(), "ERC20: approve from the zero address");
    require(!spender.is_zero(), "ERC20: approve to the zero address");
    allowance_slot(owner, spender).store_u256(amount);
    emit_pair(APPROVAL, owner, spender, amount);
}

/// An allowance of type(uint256).max is infinite and never decreases; no Approval event, as OpenZeppelin 5.
fn spend_allowance(owner: &Address, spender: &Address, amount: U256) {
    let slot = allowance_slot(owner, spender);
    let current = slot.load_u256();
    if current == U256::MAX {
        return;
    }
    match current.checked_sub(amount) {
        Some(rest) => slot.store_u256(rest),
        None => revert_error("ERC20: insufficient allowance"),
    }
}

fn mint(to: &Address, amount: U256) {
    require(!to.is_zero(), "ERC20: mint to the zero address");
    TOTAL_SUPPLY.store_u256(TOTAL_SUPPLY.load_u256() + amount); // Panic(0x11) on overflow, as Solidity
    let slot = BALANCES.at_address(to);
    slot.store_u256(slot.load_u256().wrapping_add(amount));
    emit_pair(TRANSFER, &Address::ZERO, to, amount);
}

contract! {
    constructor(args) {
        NAME.store_bytes(args.string(0));
        SYMBOL.store_bytes(args.string(1));
        DECIMALS.store_u256(U256::from_u64(args.u8(2) as u64));
        mint(&caller(), args.u256(3));
    }
    "name()"(_) => Bytes(NAME.load_bytes()),
    "symbol()"(_) => Bytes(SYMBOL.load_bytes()),
    "decimals()"(_) => DECIMALS.load(),
    "totalSupply()"(_) => TOTAL_SUPPLY.load(),
    "balanceOf(address)"(args) => BALANCES.at_address(&args.address(0)).load(),
    "transfer(address,uint256)"(args) => {
        transfer(&caller(), &args.address(0), args.u256(1));
        true
    },
    "allowance(address,address)"(args) => allowance_slot(&args.address(0), &args.address(1)).load(),
    "approve(address,uint256)"(args) => {
        approve(&caller(), &args.address(0), args.u256(1));
        true
    },
    "transferFrom(address,address,uint256)"(args) => {
        let (from, to, amount) = (args.address(0), args.address(1), args.u256(2));
        spend_allowance(&from, &caller(), amount);
        transfer(&from, &to, amount);
        true
    },
}
