// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title GuardianSets: the committee's keys and Wormhole VAA v1 verification (docs/bridge.md, "The envelope").
///
/// Rules enforced by `_verifyVaa`, in this order, each with the error code its revert text begins with:
///   - the header is `version u8 = 1 | guardianSetIndex u32 | n u8 | n x (index u8 | r 32 | s 32 | v u8)` and the body
///     that follows is at least 51 bytes with a payload of at most 64 KiB            (VAA_MALFORMED, VAA_VERSION);
///   - the guardian set exists                                                         (VAA_UNKNOWN_GUARDIAN_SET);
///   - it is the current set, or a replaced set up to its expiry (`block.timestamp <= expiry`, as Wormhole and the
///     shared codec; a set replaced with `guardianSetExpiry = 0` is refused from the next second on)
///                                                                                     (VAA_GUARDIAN_SET_EXPIRED);
///   - n >= quorum(set size) = floor(2 * size / 3) + 1                                  (VAA_QUORUM);
///   - guardian indices strictly ascending and inside the set                          (VAA_SIGNATURE_ORDER);
///   - every signature is low-s (s <= secp256k1n / 2), has recovery id 0 or 1 (v = id + 27 for ecrecover) and
///     recovers, over digest = keccak256(keccak256(body)) without any message prefix, to the key at its index
///                                                                                     (VAA_BAD_SIGNATURE).
/// Guardian set upgrades (`_upgradeGuardianSet`) only ever go to index current + 1; the replaced set keeps working
/// for `guardianSetExpiry` seconds so VAAs signed just before the upgrade can still be redeemed.
abstract contract GuardianSets {
    struct GuardianSet {
        address[] keys;
        /// 0 while the set is current; the last second a replaced set is accepted.
        uint64 expiry;
    }

    /// secp256k1n / 2: signatures with a larger s are the malleable twin of a low-s one.
    uint256 internal constant SECP256K1N_HALF = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 internal constant MAX_PAYLOAD_BYTES = 64 * 1024;
    uint256 internal constant MAX_GUARDIANS = 255;
    uint256 private constant HEADER_BYTES = 6;
    uint256 private constant SIGNATURE_BYTES = 66;
    /// timestamp u32 | nonce u32 | emitterChain u16 | emitterAddress 32 | sequence u64 | consistencyLevel u8
    uint256 internal constant BODY_FIXED_BYTES = 51;

    /// Seconds a replaced guardian set stays valid after an upgrade.
    uint64 public immutable guardianSetExpiry;

    mapping(uint32 => GuardianSet) private _guardianSets;
    uint32 private _currentGuardianSetIndex;

    event GuardianSetUpgraded(uint32 indexed newIndex, uint64 oldSetExpiry);

    constructor(address[] memory initialGuardians, uint64 guardianSetExpiry_) {
        guardianSetExpiry = guardianSetExpiry_;
        _storeGuardianSet(0, initialGuardians);
    }

    function guardianSetIndex() public view returns (uint32) {
        return _currentGuardianSetIndex;
    }

    function guardianSet(uint32 index) external view returns (address[] memory keys, uint64 expiry) {
        GuardianSet storage set = _guardianSets[index];
        return (set.keys, set.expiry);
    }

    function quorum(uint256 numGuardians) public pure returns (uint256) {
        return (numGuardians * 2) / 3 + 1;
    }

    /// Checks `vaa` (rules in the header) and returns its body, digest and guardian set index.
    function _verifyVaa(bytes calldata vaa) internal view returns (bytes calldata body, bytes32 digest, uint32 setIndex) {
        require(vaa.length >= HEADER_BYTES, "VAA_MALFORMED: shorter than the header");
        require(uint8(vaa[0]) == 1, "VAA_VERSION: only VAA version 1");
        setIndex = uint32(bytes4(vaa[1:5]));
        uint256 n = uint8(vaa[5]);
        uint256 bodyStart = HEADER_BYTES + n * SIGNATURE_BYTES;
        require(vaa.length >= bodyStart + BODY_FIXED_BYTES, "VAA_MALFORMED: truncated signatures or body");
        require(vaa.length - bodyStart - BODY_FIXED_BYTES <= MAX_PAYLOAD_BYTES, "VAA_MALFORMED: payload over 64 KiB");
        body = vaa[bodyStart:];
        digest = keccak256(abi.encodePacked(keccak256(body)));

        GuardianSet storage set = _guardianSets[setIndex];
        uint256 size = set.keys.length;
        require(size > 0, "VAA_UNKNOWN_GUARDIAN_SET");
        require(
            setIndex == _currentGuardianSetIndex || block.timestamp <= set.expiry,
            "VAA_GUARDIAN_SET_EXPIRED"
        );
        require(n >= quorum(size), "VAA_QUORUM: too few signatures");

        uint256 next = 0; // the lowest guardian index the next signature may use
        for (uint256 i = 0; i < n; i++) {
            uint256 pos = HEADER_BYTES + i * SIGNATURE_BYTES;
            uint256 index = uint8(vaa[pos]);
            require(index >= next && index < size, "VAA_SIGNATURE_ORDER");
            next = index + 1;
            bytes32 r = bytes32(vaa[pos + 1:pos + 33]);
            bytes32 s = bytes32(vaa[pos + 33:pos + 65]);
            uint8 recoveryId = uint8(vaa[pos + 65]);
            require(recoveryId < 2 && uint256(s) <= SECP256K1N_HALF, "VAA_BAD_SIGNATURE: not a canonical signature");
            address signer = ecrecover(digest, recoveryId + 27, r, s);
            require(signer != address(0) && signer == set.keys[index], "VAA_BAD_SIGNATURE");
        }
    }

    /// Replaces the current set with `keys` at `newIndex` (= current + 1); the old set expires after guardianSetExpiry.
    function _upgradeGuardianSet(uint32 newIndex, address[] memory keys) internal {
        uint32 current = _currentGuardianSetIndex;
        require(newIndex == current + 1, "GOVERNANCE: new guardian set index must be current + 1");
        uint64 oldExpiry = uint64(block.timestamp) + guardianSetExpiry;
        _guardianSets[current].expiry = oldExpiry;
        _storeGuardianSet(newIndex, keys);
        _currentGuardianSetIndex = newIndex;
        emit GuardianSetUpgraded(newIndex, oldExpiry);
    }

    function _storeGuardianSet(uint32 index, address[] memory keys) private {
        require(keys.length > 0 && keys.length <= MAX_GUARDIANS, "GOVERNANCE: a guardian set has 1 to 255 keys");
        for (uint256 i = 0; i < keys.length; i++) {
            require(keys[i] != address(0), "GOVERNANCE: zero guardian key");
            for (uint256 j = 0; j < i; j++) {
                require(keys[i] != keys[j], "GOVERNANCE: duplicate guardian key");
            }
        }
        _guardianSets[index].keys = keys;
    }

    /// The fields of a VAA body the gateway uses; `payload` is everything after the fixed part.
    function _parseBody(bytes calldata body)
        internal
        pure
        returns (uint16 emitterChain, bytes32 emitterAddress, uint64 sequence, bytes calldata payload)
    {
        require(body.length >= BODY_FIXED_BYTES, "VAA_MALFORMED: body shorter than 51 bytes");
        emitterChain = uint16(bytes2(body[8:10]));
        emitterAddress = bytes32(body[10:42]);
        sequence = uint64(bytes8(body[42:50]));
        payload = body[BODY_FIXED_BYTES:];
    }
}
