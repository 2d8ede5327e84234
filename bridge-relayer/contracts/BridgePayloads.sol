// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BridgePayloads: the token bridge payloads of docs/bridge.md ("Payloads"), encoded and decoded.
///
/// Layouts after `payloadId u8` (big-endian, addresses as 32 bytes left-padded with zeros):
///   1    Transfer             amount u256 | tokenAddress 32 | tokenChain u16 | to 32 | toChain u16 | fee u256
///   2    AssetMeta            tokenAddress 32 | tokenChain u16 | decimals u8 | symbol 32 | name 32 (UTF-8, zero padded)
///   3    TransferWithPayload  amount u256 | tokenAddress 32 | tokenChain u16 | to 32 | toChain u16 | fromAddress 32 | payload
///   0x81 Refund               originalSequence u64 | originalDigest 32
/// Amounts are normalised to 8 decimals. Decoders refuse a payload of another id (VAA_PAYLOAD) and a payload whose
/// length is not exactly its layout's (VAA_MALFORMED; payload 3 only has a minimum length).
library BridgePayloads {
    uint8 internal constant TRANSFER = 1;
    uint8 internal constant ASSET_META = 2;
    uint8 internal constant TRANSFER_WITH_PAYLOAD = 3;
    uint8 internal constant REFUND = 0x81;

    uint256 private constant TRANSFER_BYTES = 133;
    uint256 private constant ASSET_META_BYTES = 100;
    uint256 private constant REFUND_BYTES = 41;

    /// Payloads 1 and 3 decoded into one shape: `fee` is 0 for payload 3, `fromAddress` is 0 for payload 1.
    struct Transfer {
        uint8 payloadId;
        uint256 amount;
        bytes32 tokenAddress;
        uint16 tokenChain;
        bytes32 to;
        uint16 toChain;
        uint256 fee;
        bytes32 fromAddress;
    }

    struct AssetMeta {
        bytes32 tokenAddress;
        uint16 tokenChain;
        uint8 decimals;
        bytes32 symbol;
        bytes32 name;
    }

    struct Refund {
        uint64 originalSequence;
        bytes32 originalDigest;
    }

    function encodeTransfer(Transfer memory t) internal pure returns (bytes memory) {
        return abi.encodePacked(TRANSFER, t.amount, t.tokenAddress, t.tokenChain, t.to, t.toChain, t.fee);
    }

    function encodeTransferWithPayload(Transfer memory t, bytes calldata payload) internal pure returns (bytes memory) {
        return abi.encodePacked(
            TRANSFER_WITH_PAYLOAD, t.amount, t.tokenAddress, t.tokenChain, t.to, t.toChain, t.fromAddress, payload
        );
    }

    function encodeAssetMeta(AssetMeta memory m) internal pure returns (bytes memory) {
        return abi.encodePacked(ASSET_META, m.tokenAddress, m.tokenChain, m.decimals, m.symbol, m.name);
    }

    function encodeRefund(Refund memory r) internal pure returns (bytes memory) {
        return abi.encodePacked(REFUND, r.originalSequence, r.originalDigest);
    }

    function decodeTransfer(bytes calldata p) internal pure returns (Transfer memory t) {
        require(p.length > 0, "VAA_PAYLOAD: empty payload");
        t.payloadId = uint8(p[0]);
        if (t.payloadId == TRANSFER) {
            require(p.length == TRANSFER_BYTES, "VAA_MALFORMED: a Transfer payload is 133 bytes");
        } else if (t.payloadId == TRANSFER_WITH_PAYLOAD) {
            require(p.length >= TRANSFER_BYTES, "VAA_MALFORMED: a TransferWithPayload is at least 133 bytes");
        } else {
            revert("VAA_PAYLOAD: not a Transfer or TransferWithPayload");
        }
        t.amount = uint256(bytes32(p[1:33]));
        t.tokenAddress = bytes32(p[33:65]);
        t.tokenChain = uint16(bytes2(p[65:67]));
        t.to = bytes32(p[67:99]);
        t.toChain = uint16(bytes2(p[99:101]));
        if (t.payloadId == TRANSFER) t.fee = uint256(bytes32(p[101:133]));
        else t.fromAddress = bytes32(p[101:133]);
    }

    function decodeAssetMeta(bytes calldata p) internal pure returns (AssetMeta memory m) {
        require(p.length > 0 && uint8(p[0]) == ASSET_META, "VAA_PAYLOAD: not an AssetMeta");
        require(p.length == ASSET_META_BYTES, "VAA_MALFORMED: an AssetMeta payload is 100 bytes");
        m.tokenAddress = bytes32(p[1:33]);
        m.tokenChain = uint16(bytes2(p[33:35]));
        m.decimals = uint8(p[35]);
        m.symbol = bytes32(p[36:68]);
        m.name = bytes32(p[68:100]);
    }

    function decodeRefund(bytes calldata p) internal pure returns (Refund memory r) {
        require(p.length > 0 && uint8(p[0]) == REFUND, "VAA_PAYLOAD: not a Refund");
        require(p.length == REFUND_BYTES, "VAA_MALFORMED: a Refund payload is 41 bytes");
        r.originalSequence = uint64(bytes8(p[1:9]));
        r.originalDigest = bytes32(p[9:41]);
    }

    /// A UTF-8 string as a zero-padded bytes32, cut at 32 bytes on a character boundary.
    function toBytes32(string memory s) internal pure returns (bytes32 out) {
        bytes memory b = bytes(s);
        uint256 len = b.length;
        if (len > 32) {
            len = 32;
            // back off over continuation bytes (10xxxxxx) so no character is cut in half
            while (len > 0 && (uint8(b[len]) & 0xc0) == 0x80) len--;
        }
        for (uint256 i = 0; i < len; i++) {
            out |= bytes32(b[i]) >> (i * 8);
        }
    }

    /// A zero-padded bytes32 back to a string (trailing zero bytes dropped).
    function toString(bytes32 b) internal pure returns (string memory) {
        uint256 len = 32;
        while (len > 0 && b[len - 1] == 0) len--;
        bytes memory out = new bytes(len);
        for (uint256 i = 0; i < len; i++) {
            out[i] = b[i];
        }
        return string(out);
    }
}
