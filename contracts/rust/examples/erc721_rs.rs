//! ERC-721 non-fungible token (EIP-721 with the metadata extension) in Rust, behaving like OpenZeppelin 4's ERC721
//! with Ownable minting. Token URIs are IPFS paths: `tokenURI(id)` = "ipfs://<baseCid>/<id>" (the id in decimal),
//! with the CID of a directory of metadata files set at construction.
//!
//! constructor(string name, string symbol, string baseCid): the deployer becomes the owner, the only minter.
//!
//! Storage layout (OpenZeppelin's ERC721, then Ownable's owner and the base CID):
//!   0 string name                              3 mapping(address => uint256) balances
//!   1 string symbol                            4 mapping(uint256 => address) tokenApprovals
//!   2 mapping(uint256 => address) owners       5 mapping(address => mapping(address => bool)) operatorApprovals
//!   6 address owner                            7 string baseCid
//!
//! safeTransferFrom calls `onERC721Received(operator, from, tokenId, data)` on a recipient with code and requires its
//! selector back (EIP-721), as OpenZeppelin does.
#![no_std]

use rustchain_sdk::prelude::*;

const NAME: Slot = Slot::new(0);
const SYMBOL: Slot = Slot::new(1);
const OWNERS: Slot = Slot::new(2);
const BALANCES: Slot = Slot::new(3);
const TOKEN_APPROVALS: Slot = Slot::new(4);
const OPERATOR_APPROVALS: Slot = Slot::new(5);
const OWNER: Slot = Slot::new(6);
const BASE_CID: Slot = Slot::new(7);

const TRANSFER: [u8; 32] = event_topic("Transfer(address,address,uint256)");
const APPROVAL: [u8; 32] = event_topic("Approval(address,address,uint256)");
const APPROVAL_FOR_ALL: [u8; 32] = event_topic("ApprovalForAll(address,address,bool)");

/// ERC-165 interface ids: ERC-165 itself, ERC-721 and ERC-721 metadata.
const INTERFACES: [u32; 3] = [0x01ffc9a7, 0x80ac58cd, 0x5b5e139f];
const ON_RECEIVED: u32 = selector("onERC721Received(address,address,uint256,bytes)");

fn owner_of(id: U256) -> Address {
    let owner = OWNERS.at_u256(id).load_address();
    require(!owner.is_zero(), "ERC721: invalid token ID");
    owner
}

fn operator_slot(owner: &Address, operator: &Address) -> Slot {
    OPERATOR_APPROVALS.at_address(owner).at_address(operator)
}

fn is_approved_or_owner(spender: &Address, owner: &Address, id: U256) -> bool {
    spender == owner
        || operator_slot(owner, spender).load_bool()
        || TOKEN_APPROVALS.at_u256(id).load_address() == *spender
}

fn emit_transfer(from: &Address, to: &Address, id: U256) {
    emit_log(&[TRANSFER, from.to_word(), to.to_word(), id.to_be_bytes()], &[]);
}

fn add_balance(account: &Address, up: bool) {
    let slot = BALANCES.at_address(account);
    let b = slot.load_u256();
    // Cannot overflow or underflow: a balance counts the tokens an account owns.
    slot.store_u256(if up { b.wrapping_add(U256::ONE) } else { b.wrapping_sub(U256::ONE) });
}

fn transfer(from: &Address, to: &Address, id: U256) {
    let owner = owner_of(id);
    require(is_approved_or_owner(&caller(), &owner, id), "ERC721: caller is not token owner or approved");
    require(owner == *from, "ERC721: transfer from incorrect owner");
    require(!to.is_zero(), "ERC721: transfer to the zero address");
    // Clear the approval without an Approval event (OpenZeppelin 4.8+).
    TOKEN_APPROVALS.at_u256(id).store_address(&Address::ZERO);
    add_balance(from, false);
    add_balance(to, true);
    OWNERS.at_u256(id).store_address(to);
    emit_transfer(from, to, id);
}

/// EIP-721's check for a recipient with code: it must answer onERC721Received with that function's selector.
fn check_received(from: &Address, to: &Address, id: U256, data: &[u8]) {
    if !has_code(to) {
        return;
    }
    let mut calldata = Encoder::call(ON_RECEIVED, 4, tail_size(data.len()));
    calldata.address(0, &caller()).address(1, from).u256(2, id).bytes(3, data);
    let accepted = match call_contract(to, U256::ZERO, gas_left(), calldata.as_bytes()) {
        CallStatus::Success => {
            let answer = returndata();
            answer.len() >= 32 && answer[..4] == ON_RECEIVED.to_be_bytes() && answer[4..32].iter().all(|&b| b == 0)
        }
        CallStatus::Revert => {
            // The recipient's own reason is passed on, as OpenZeppelin's try/catch does.
            let reason = returndata();
            if !reason.is_empty() {
                revert(reason)
            }
            false
        }
        CallStatus::Failure => false,
    };
    require(accepted, "ERC721: transfer to non ERC721Receiver implementer");
}

fn safe_transfer(args: &Args, data: &[u8]) {
    let (from, to, id) = (args.address(0), args.address(1), args.u256(2));
    transfer(&from, &to, id);
    check_received(&from, &to, id, data);
}

/// "ipfs://<baseCid>/<id>"
fn token_uri(id: U256) -> Encoder {
    owner_of(id);
    let cid = BASE_CID.load_bytes();
    let mut digits = [0u8; 78];
    let digits = id.to_decimal(&mut digits);
    let uri = rustchain_sdk::mem::alloc(7 + cid.len() + 1 + digits.len());
    let (scheme, rest) = uri.split_at_mut(7);
    scheme.copy_from_slice(b"ipfs://");
    let (cid_part, rest) = rest.split_at_mut(cid.len());
    cid_part.copy_from_slice(cid);
    rest[0] = b'/';
    rest[1..].copy_from_slice(digits);
    let mut out = Encoder::new(1, tail_size(uri.len()));
    out.bytes(0, uri);
    out
}

contract! {
    constructor(args) {
        NAME.store_bytes(args.string(0));
        SYMBOL.store_bytes(args.string(1));
        BASE_CID.store_bytes(args.string(2));
        OWNER.store_address(&caller());
    }
    "name()"(_) => Bytes(NAME.load_bytes()),
    "symbol()"(_) => Bytes(SYMBOL.load_bytes()),
    "owner()"(_) => OWNER.load_address(),
    "tokenURI(uint256)"(args) => token_uri(args.u256(0)),
    "supportsInterface(bytes4)"(args) => INTERFACES.contains(&args.bytes4(0)),
    "balanceOf(address)"(args) => {
        let owner = args.address(0);
        require(!owner.is_zero(), "ERC721: address zero is not a valid owner");
        BALANCES.at_address(&owner).load()
    },
    "ownerOf(uint256)"(args) => owner_of(args.u256(0)),
    "getApproved(uint256)"(args) => {
        let id = args.u256(0);
        owner_of(id);
        TOKEN_APPROVALS.at_u256(id).load_address()
    },
    "isApprovedForAll(address,address)"(args) => operator_slot(&args.address(0), &args.address(1)).load_bool(),
    "approve(address,uint256)"(args) => {
        let (to, id) = (args.address(0), args.u256(1));
        let owner = owner_of(id);
        require(to != owner, "ERC721: approval to current owner");
        let sender = caller();
        require(
            sender == owner || operator_slot(&owner, &sender).load_bool(),
            "ERC721: approve caller is not token owner or approved for all",
        );
        TOKEN_APPROVALS.at_u256(id).store_address(&to);
        emit_log(&[APPROVAL, owner.to_word(), to.to_word(), id.to_be_bytes()], &[]);
    },
    "setApprovalForAll(address,bool)"(args) => {
        let (operator, approved) = (args.address(0), args.bool(1));
        let owner = caller();
        require(owner != operator, "ERC721: approve to caller");
        operator_slot(&owner, &operator).store_bool(approved);
        let mut data = [0u8; 32];
        data[31] = approved as u8;
        emit_log(&[APPROVAL_FOR_ALL, owner.to_word(), operator.to_word()], &data);
    },
    "transferFrom(address,address,uint256)"(args) => {
        transfer(&args.address(0), &args.address(1), args.u256(2));
    },
    "safeTransferFrom(address,address,uint256)"(args) => safe_transfer(&args, &[]),
    "safeTransferFrom(address,address,uint256,bytes)"(args) => safe_transfer(&args, args.bytes(3)),
    "mint(address,uint256)"(args) => {
        require(caller() == OWNER.load_address(), "Ownable: caller is not the owner");
        let (to, id) = (args.address(0), args.u256(1));
        require(!to.is_zero(), "ERC721: mint to the zero address");
        let slot = OWNERS.at_u256(id);
        require(slot.load_address().is_zero(), "ERC721: token already minted");
        add_balance(&to, true);
        slot.store_address(&to);
        emit_transfer(&Address::ZERO, &to, id);
    },
}
