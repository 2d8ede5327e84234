// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {BridgeGovernor} from "./BridgeGovernor.sol";
import {BridgePayloads} from "./BridgePayloads.sol";
import {GuardianSets} from "./GuardianSets.sol";
import {WrappedToken} from "./WrappedToken.sol";

/// @title RustChainBridge: the Ethereum gateway of the RustChain bridge (docs/bridge.md is the protocol).
///
/// One contract holds the core (publish LogMessagePublished, verify VAAs: GuardianSets.sol) and the token bridge.
///   - Outbound: ETH (tokenAddress 0 on chain 2, no WETH) and home ERC-20s are escrowed, wrapped tokens burned; amounts
///     are normalised to 8 decimals and the dust never leaves the sender; every transfer is recorded in
///     outbound(sequence) so a Refund can pay its sender back. Transfers go only to a chain with a registered gateway.
///   - Inbound (completeTransfer): the VAA must be valid, come from the registered gateway of its emitter chain
///     (VAA_UNKNOWN_EMITTER), carry payload 1 or 3 (VAA_PAYLOAD) for this chain (VAA_WRONG_CHAIN), not be consumed
///     (VAA_CONSUMED); then payload 3 only by its recipient (NOT_RECIPIENT), the asset not paused (ASSET_PAUSED) and
///     known here (ASSET_UNKNOWN), fee <= amount (FEE_TOO_HIGH). The digest is consumed, then the governor
///     (BridgeGovernor.sol) either lets it pay out now (amount - fee to `to`, fee to msg.sender) or queues it.
///   - cancelTransfer: a transfer that cannot complete here (its asset is paused, or `to` is not a 20-byte address) is
///     consumed, also when queued, and answered with a Refund (0x81) naming its sequence and digest.
///   - refund: a Refund from the gateway of the chain a transfer went to pays its recorded sender the recorded amount,
///     once (ALREADY_REFUNDED).
///   - Governance: VAAs from (21075, 0x..04) signed by the current guardian set, for chain 0 or this chain, consumed by
///     digest: Core/2 GuardianSetUpgrade, TokenBridge/1 RegisterChain, RustChainBridge/1 SetPaused, /2 SetGovernor.
/// Every revert of the gateway's own checks is Error(string) beginning with a code of docs/bridge.md ("Errors"); a
/// token's own revert (e.g. OpenZeppelin's ERC20InsufficientAllowance) bubbles up unchanged.
///
/// Where docs/bridge.md leaves a choice, this contract:
///   - emits TransferCompleted with the payload's normalised amount and fee (the same figures on both chains);
///   - refuses an outbound transfer to a chain without a registered gateway (VAA_WRONG_CHAIN: nobody could complete
///     or cancel it) and an amount above 2^96 normalised units (VAA_PAYLOAD: outbound records pack it in 96 bits);
///   - reverts with NOT_RECIPIENT when an address refuses ETH (recipient, fee payee, dust or refund);
///   - does not count released queued transfers towards a day window (they waited instead);
///   - checks the pause again when a queued transfer is released, and lets a paused queued transfer be cancelled;
///   - pays refunds whether or not the asset is paused (a refund returns escrow; it is not a transfer);
///   - refuses a second createWrapped for the same asset (VAA_PAYLOAD), and AssetMeta not emitted by its home chain.
contract RustChainBridge is GuardianSets, BridgeGovernor, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint16 internal constant GOVERNANCE_CHAIN = 21075;
    bytes32 internal constant GOVERNANCE_EMITTER = bytes32(uint256(4));
    /// "finalized": the committee signs nothing before finality.
    uint8 internal constant CONSISTENCY_LEVEL = 1;
    uint8 internal constant NATIVE_DECIMALS = 18;

    // Governance modules: ASCII, left-padded with zeros to 32 bytes.
    bytes32 internal constant MODULE_CORE = bytes32(uint256(uint32(bytes4("Core"))));
    bytes32 internal constant MODULE_TOKEN_BRIDGE = bytes32(uint256(uint88(bytes11("TokenBridge"))));
    bytes32 internal constant MODULE_RUSTCHAIN_BRIDGE = bytes32(uint256(uint120(bytes15("RustChainBridge"))));
    uint8 internal constant ACTION_GUARDIAN_SET_UPGRADE = 2;
    uint8 internal constant ACTION_REGISTER_CHAIN = 1;
    uint8 internal constant ACTION_SET_PAUSED = 1;
    uint8 internal constant ACTION_SET_GOVERNOR = 2;

    /// An outbound transfer, packed in two slots; the amount is `normalised * 10^shift` token units.
    struct Outbound {
        address sender;
        uint16 toChain;
        uint8 shift;
        bool refunded;
        address token;
        uint96 normalised;
    }

    /// Where an inbound transfer's asset lives here.
    struct Asset {
        bytes32 key;
        /// address(0): ETH
        address token;
        bool wrapped;
        /// 10^(decimals - 8) for a home token with more than 8 decimals, else 1
        uint256 unit;
    }

    struct Origin {
        uint16 tokenChain;
        bytes32 tokenAddress;
    }

    /// This chain's Wormhole id (2 on Ethereum and on the devnet's hardhat node).
    uint16 public immutable chainId;

    uint64 private _nextSequence;
    mapping(uint64 => Outbound) private _outbound;
    mapping(uint16 => bytes32) private _remoteGateways;
    mapping(bytes32 => bool) private _consumed;
    mapping(bytes32 => bool) private _paused;
    mapping(bytes32 => address) private _wrappedAssets;
    mapping(address => Origin) private _wrappedOrigins;

    event LogMessagePublished(
        address indexed sender, uint64 sequence, uint32 nonce, bytes payload, uint8 consistencyLevel
    );
    event TransferCompleted(bytes32 indexed digest, address indexed to, uint256 amount, uint256 fee);
    event TransferQueued(bytes32 indexed digest, uint64 releaseTime);
    event TransferCancelled(bytes32 indexed digest, uint64 refundSequence);
    event TransferRefunded(uint64 indexed sequence, address indexed sender, uint256 amount);
    event GovernanceExecuted(bytes32 indexed digest, bytes32 module, uint8 action);
    event WrappedAssetCreated(uint16 indexed tokenChain, bytes32 indexed tokenAddress, address token);

    constructor(
        uint16 chainId_,
        address[] memory initialGuardians,
        uint64 guardianSetExpiry_,
        uint16 remoteChain,
        bytes32 remoteGateway
    ) GuardianSets(initialGuardians, guardianSetExpiry_) {
        require(remoteChain != chainId_, "GOVERNANCE: the remote chain is this chain");
        chainId = chainId_;
        _remoteGateways[remoteChain] = remoteGateway;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views

    function nextSequence() external view returns (uint64) {
        return _nextSequence;
    }

    function outbound(uint64 sequence)
        external
        view
        returns (address sender, address token, uint256 amount, bool refunded)
    {
        Outbound storage o = _outbound[sequence];
        return (o.sender, o.token, uint256(o.normalised) * 10 ** o.shift, o.refunded);
    }

    function isCompleted(bytes32 digest) external view returns (bool) {
        return _consumed[digest];
    }

    function isPaused(uint16 tokenChain, bytes32 tokenAddress) external view returns (bool) {
        return _paused[_assetKey(tokenChain, tokenAddress)];
    }

    function wrappedAsset(uint16 tokenChain, bytes32 tokenAddress) external view returns (address) {
        return _wrappedAssets[_assetKey(tokenChain, tokenAddress)];
    }

    /// The gateway this one accepts transfers and refunds from on `chain` (0: none).
    function registeredGateway(uint16 chain) external view returns (bytes32) {
        return _remoteGateways[chain];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Outbound

    function transferNative(uint16 toChain, bytes32 to, uint256 fee, uint32 nonce)
        external
        payable
        nonReentrant
        returns (uint64 sequence)
    {
        uint256 unit = 10 ** (NATIVE_DECIMALS - 8);
        uint256 normalised = msg.value / unit;
        BridgePayloads.Transfer memory t = _outboundTransfer(chainId, bytes32(0), normalised, toChain, to, fee);
        sequence = _publish(nonce, BridgePayloads.encodeTransfer(t));
        _recordOutbound(sequence, toChain, address(0), NATIVE_DECIMALS - 8, normalised);
        uint256 dust = msg.value - normalised * unit;
        if (dust > 0) _sendEth(msg.sender, dust);
    }

    function transferTokens(address token, uint256 amount, uint16 toChain, bytes32 to, uint256 fee, uint32 nonce)
        external
        nonReentrant
        returns (uint64 sequence)
    {
        (Origin memory origin, uint256 normalised, uint8 shift) = _takeTokens(token, amount);
        BridgePayloads.Transfer memory t =
            _outboundTransfer(origin.tokenChain, origin.tokenAddress, normalised, toChain, to, fee);
        sequence = _publish(nonce, BridgePayloads.encodeTransfer(t));
        _recordOutbound(sequence, toChain, token, shift, normalised);
    }

    function transferTokensWithPayload(
        address token,
        uint256 amount,
        uint16 toChain,
        bytes32 to,
        uint32 nonce,
        bytes calldata payload
    ) external nonReentrant returns (uint64 sequence) {
        (Origin memory origin, uint256 normalised, uint8 shift) = _takeTokens(token, amount);
        BridgePayloads.Transfer memory t =
            _outboundTransfer(origin.tokenChain, origin.tokenAddress, normalised, toChain, to, 0);
        t.payloadId = BridgePayloads.TRANSFER_WITH_PAYLOAD;
        t.fromAddress = bytes32(uint256(uint160(msg.sender)));
        bytes memory encoded = BridgePayloads.encodeTransferWithPayload(t, payload);
        require(encoded.length <= MAX_PAYLOAD_BYTES, "VAA_PAYLOAD: payload over 64 KiB");
        sequence = _publish(nonce, encoded);
        _recordOutbound(sequence, toChain, token, shift, normalised);
    }

    function attestToken(address token, uint32 nonce) external nonReentrant returns (uint64 sequence) {
        BridgePayloads.AssetMeta memory m;
        m.tokenChain = chainId;
        if (token == address(0)) {
            m.decimals = NATIVE_DECIMALS;
            m.symbol = BridgePayloads.toBytes32("ETH");
            m.name = BridgePayloads.toBytes32("Ether");
        } else {
            require(
                _wrappedOrigins[token].tokenChain == 0, "ASSET_UNKNOWN: a wrapped asset is attested on its home chain"
            );
            m.tokenAddress = bytes32(uint256(uint160(token)));
            m.decimals = IERC20Metadata(token).decimals();
            m.symbol = BridgePayloads.toBytes32(IERC20Metadata(token).symbol());
            m.name = BridgePayloads.toBytes32(IERC20Metadata(token).name());
        }
        sequence = _publish(nonce, BridgePayloads.encodeAssetMeta(m));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Inbound

    function createWrapped(bytes calldata vaa) external nonReentrant returns (address token) {
        (bytes32 digest, uint16 emitterChain,, bytes calldata payload) = _verifyFromRemoteGateway(vaa);
        BridgePayloads.AssetMeta memory m = BridgePayloads.decodeAssetMeta(payload);
        require(m.tokenChain != chainId, "VAA_PAYLOAD: an asset of this chain is not wrapped here");
        require(m.tokenChain == emitterChain, "VAA_PAYLOAD: AssetMeta not from the asset's home chain");
        require(!_consumed[digest], "VAA_CONSUMED");
        bytes32 key = _assetKey(m.tokenChain, m.tokenAddress);
        require(_wrappedAssets[key] == address(0), "VAA_PAYLOAD: the wrapped asset exists");
        _consumed[digest] = true;

        uint8 decimals = m.decimals > 8 ? 8 : m.decimals;
        token = address(
            new WrappedToken{salt: key}(
                BridgePayloads.toString(m.name), BridgePayloads.toString(m.symbol), decimals, m.tokenChain, m.tokenAddress
            )
        );
        _wrappedAssets[key] = token;
        _wrappedOrigins[token] = Origin(m.tokenChain, m.tokenAddress);
        emit WrappedAssetCreated(m.tokenChain, m.tokenAddress, token);
    }

    function completeTransfer(bytes calldata vaa) external nonReentrant {
        (bytes32 digest,,, bytes calldata payload) = _verifyFromRemoteGateway(vaa);
        BridgePayloads.Transfer memory t = BridgePayloads.decodeTransfer(payload);
        require(t.toChain == chainId, "VAA_WRONG_CHAIN");
        require(!_consumed[digest], "VAA_CONSUMED");
        Asset memory asset = _inboundAsset(t);
        _consumed[digest] = true;

        uint64 releaseTime = _admit(asset.key, digest, t.amount);
        if (releaseTime != 0) emit TransferQueued(digest, releaseTime);
        else _payOut(digest, t, asset);
    }

    function releaseQueued(bytes calldata body) external nonReentrant {
        bytes32 digest = keccak256(abi.encodePacked(keccak256(body)));
        _dequeueForRelease(digest);
        (,,, bytes calldata payload) = _parseBody(body);
        BridgePayloads.Transfer memory t = BridgePayloads.decodeTransfer(payload);
        _payOut(digest, t, _inboundAsset(t));
    }

    function cancelTransfer(bytes calldata vaa) external nonReentrant returns (uint64 refundSequence) {
        (bytes32 digest,, uint64 sequence, bytes calldata payload) = _verifyFromRemoteGateway(vaa);
        BridgePayloads.Transfer memory t = BridgePayloads.decodeTransfer(payload);
        require(t.toChain == chainId, "VAA_WRONG_CHAIN");
        if (!_dequeueForCancel(digest)) require(!_consumed[digest], "VAA_CONSUMED");
        require(
            _paused[_assetKey(t.tokenChain, t.tokenAddress)] || !_isEvmAddress(t.to),
            "NOT_CANCELLABLE: the transfer can complete here"
        );
        _consumed[digest] = true;
        refundSequence =
            _publish(0, BridgePayloads.encodeRefund(BridgePayloads.Refund({originalSequence: sequence, originalDigest: digest})));
        emit TransferCancelled(digest, refundSequence);
    }

    function refund(bytes calldata vaa) external nonReentrant {
        (, uint16 emitterChain,, bytes calldata payload) = _verifyFromRemoteGateway(vaa);
        BridgePayloads.Refund memory r = BridgePayloads.decodeRefund(payload);
        Outbound storage o = _outbound[r.originalSequence];
        require(o.sender != address(0), "VAA_PAYLOAD: no outbound transfer with this sequence");
        require(o.toChain == emitterChain, "VAA_PAYLOAD: the transfer did not go to the refunding chain");
        require(!o.refunded, "ALREADY_REFUNDED");
        o.refunded = true;

        address sender = o.sender;
        address token = o.token;
        uint256 amount = uint256(o.normalised) * 10 ** o.shift;
        if (token == address(0)) _sendEth(sender, amount);
        else if (_wrappedOrigins[token].tokenChain != 0) WrappedToken(token).mint(sender, amount);
        else IERC20(token).safeTransfer(sender, amount);
        emit TransferRefunded(r.originalSequence, sender, amount);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Governance

    function submitGovernance(bytes calldata vaa) external nonReentrant {
        (bytes calldata body, bytes32 digest, uint32 setIndex) = _verifyVaa(vaa);
        require(setIndex == guardianSetIndex(), "VAA_GUARDIAN_SET_EXPIRED: governance needs the current guardian set");
        (uint16 emitterChain, bytes32 emitterAddress,, bytes calldata payload) = _parseBody(body);
        require(
            emitterChain == GOVERNANCE_CHAIN && emitterAddress == GOVERNANCE_EMITTER,
            "VAA_UNKNOWN_EMITTER: not the governance emitter"
        );
        require(!_consumed[digest], "VAA_CONSUMED");
        _consumed[digest] = true;

        require(payload.length >= 35, "GOVERNANCE: payload shorter than module, action and chain");
        bytes32 module = bytes32(payload[0:32]);
        uint8 action = uint8(payload[32]);
        uint16 chain = uint16(bytes2(payload[33:35]));
        require(chain == 0 || chain == chainId, "VAA_WRONG_CHAIN: governance for another chain");
        bytes calldata args = payload[35:];

        if (module == MODULE_CORE && action == ACTION_GUARDIAN_SET_UPGRADE) _guardianSetUpgrade(args);
        else if (module == MODULE_TOKEN_BRIDGE && action == ACTION_REGISTER_CHAIN) _registerChain(args);
        else if (module == MODULE_RUSTCHAIN_BRIDGE && action == ACTION_SET_PAUSED) _setPaused(args);
        else if (module == MODULE_RUSTCHAIN_BRIDGE && action == ACTION_SET_GOVERNOR) _setGovernorFrom(args);
        else revert("GOVERNANCE: unknown module or action");
        emit GovernanceExecuted(digest, module, action);
    }

    /// newIndex u32 | n u8 | n x address 20
    function _guardianSetUpgrade(bytes calldata args) private {
        require(args.length >= 5, "GOVERNANCE: GuardianSetUpgrade too short");
        uint32 newIndex = uint32(bytes4(args[0:4]));
        uint256 n = uint8(args[4]);
        require(args.length == 5 + 20 * n, "GOVERNANCE: GuardianSetUpgrade length");
        address[] memory keys = new address[](n);
        for (uint256 i = 0; i < n; i++) {
            keys[i] = address(bytes20(args[5 + 20 * i:25 + 20 * i]));
        }
        _upgradeGuardianSet(newIndex, keys);
    }

    /// emitterChain u16 | emitterAddress 32
    function _registerChain(bytes calldata args) private {
        require(args.length == 34, "GOVERNANCE: RegisterChain length");
        uint16 emitterChain = uint16(bytes2(args[0:2]));
        require(emitterChain != chainId && emitterChain != 0, "GOVERNANCE: cannot register this chain or chain 0");
        _remoteGateways[emitterChain] = bytes32(args[2:34]);
    }

    /// tokenChain u16 | tokenAddress 32 | paused u8
    function _setPaused(bytes calldata args) private {
        require(args.length == 35, "GOVERNANCE: SetPaused length");
        uint8 paused = uint8(args[34]);
        require(paused <= 1, "GOVERNANCE: paused is 0 or 1");
        _paused[_assetKey(uint16(bytes2(args[0:2])), bytes32(args[2:34]))] = paused == 1;
    }

    /// tokenChain u16 | tokenAddress 32 | dailyLimit u256 | threshold u256 | delay u32
    function _setGovernorFrom(bytes calldata args) private {
        require(args.length == 102, "GOVERNANCE: SetGovernor length");
        _setGovernor(
            _assetKey(uint16(bytes2(args[0:2])), bytes32(args[2:34])),
            uint256(bytes32(args[34:66])),
            uint256(bytes32(args[66:98])),
            uint32(bytes4(args[98:102]))
        );
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals

    /// A valid VAA from the registered gateway of its emitter chain.
    function _verifyFromRemoteGateway(bytes calldata vaa)
        private
        view
        returns (bytes32 digest, uint16 emitterChain, uint64 sequence, bytes calldata payload)
    {
        bytes calldata body;
        (body, digest,) = _verifyVaa(vaa);
        bytes32 emitterAddress;
        (emitterChain, emitterAddress, sequence, payload) = _parseBody(body);
        bytes32 registered = _remoteGateways[emitterChain];
        require(registered != bytes32(0) && registered == emitterAddress, "VAA_UNKNOWN_EMITTER");
    }

    function _publish(uint32 nonce, bytes memory payload) private returns (uint64 sequence) {
        sequence = _nextSequence++;
        emit LogMessagePublished(address(this), sequence, nonce, payload, CONSISTENCY_LEVEL);
    }

    /// The checks every outbound transfer passes, and its Transfer payload (id 1).
    function _outboundTransfer(
        uint16 tokenChain,
        bytes32 tokenAddress,
        uint256 normalised,
        uint16 toChain,
        bytes32 to,
        uint256 fee
    ) private view returns (BridgePayloads.Transfer memory t) {
        require(!_paused[_assetKey(tokenChain, tokenAddress)], "ASSET_PAUSED");
        require(normalised > 0, "AMOUNT_TOO_SMALL");
        require(normalised <= type(uint96).max, "VAA_PAYLOAD: amount above 2^96 normalised units");
        require(fee <= normalised, "FEE_TOO_HIGH");
        require(
            toChain != chainId && _remoteGateways[toChain] != bytes32(0),
            "VAA_WRONG_CHAIN: no gateway registered for toChain"
        );
        t.payloadId = BridgePayloads.TRANSFER;
        t.amount = normalised;
        t.tokenAddress = tokenAddress;
        t.tokenChain = tokenChain;
        t.to = to;
        t.toChain = toChain;
        t.fee = fee;
    }

    function _recordOutbound(uint64 sequence, uint16 toChain, address token, uint8 shift, uint256 normalised) private {
        _outbound[sequence] = Outbound({
            sender: msg.sender,
            toChain: toChain,
            shift: shift,
            refunded: false,
            token: token,
            normalised: uint96(normalised)
        });
    }

    /// Burns a wrapped token or escrows a home one (only the normalisable part: the dust stays with the sender).
    function _takeTokens(address token, uint256 amount)
        private
        returns (Origin memory origin, uint256 normalised, uint8 shift)
    {
        require(token != address(0), "ASSET_UNKNOWN: ETH goes through transferNative");
        origin = _wrappedOrigins[token];
        if (origin.tokenChain != 0) {
            WrappedToken(token).burnFrom(msg.sender, amount);
            return (origin, amount, 0);
        }
        origin = Origin(chainId, bytes32(uint256(uint160(token))));
        uint8 decimals = IERC20Metadata(token).decimals();
        shift = decimals > 8 ? decimals - 8 : 0;
        uint256 unit = 10 ** shift;
        uint256 escrow = amount - (amount % unit);
        require(escrow > 0, "AMOUNT_TOO_SMALL");
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), escrow);
        // a token that takes a fee on transfer delivers less than `escrow`: record what arrived
        normalised = (IERC20(token).balanceOf(address(this)) - before) / unit;
    }

    /// Where an inbound transfer's asset lives, after the checks that do not depend on the governor.
    function _inboundAsset(BridgePayloads.Transfer memory t) private view returns (Asset memory asset) {
        require(_isEvmAddress(t.to), "VAA_PAYLOAD: to is not a 20-byte address");
        require(
            t.payloadId != BridgePayloads.TRANSFER_WITH_PAYLOAD || msg.sender == address(uint160(uint256(t.to))),
            "NOT_RECIPIENT"
        );
        asset.key = _assetKey(t.tokenChain, t.tokenAddress);
        require(!_paused[asset.key], "ASSET_PAUSED");
        require(t.fee <= t.amount, "FEE_TOO_HIGH");
        asset.unit = 1;
        if (t.tokenChain == chainId) {
            require(_isEvmAddress(t.tokenAddress), "VAA_PAYLOAD: tokenAddress is not a 20-byte address");
            asset.token = address(uint160(uint256(t.tokenAddress)));
            uint8 decimals = asset.token == address(0) ? NATIVE_DECIMALS : IERC20Metadata(asset.token).decimals();
            if (decimals > 8) asset.unit = 10 ** (decimals - 8);
        } else {
            asset.token = _wrappedAssets[asset.key];
            require(asset.token != address(0), "ASSET_UNKNOWN");
            asset.wrapped = true;
        }
    }

    /// amount - fee to `to`, fee to msg.sender, in token units.
    function _payOut(bytes32 digest, BridgePayloads.Transfer memory t, Asset memory asset) private {
        address to = address(uint160(uint256(t.to)));
        uint256 toAmount = (t.amount - t.fee) * asset.unit;
        uint256 feeAmount = t.fee * asset.unit;
        if (asset.wrapped) {
            if (toAmount > 0) WrappedToken(asset.token).mint(to, toAmount);
            if (feeAmount > 0) WrappedToken(asset.token).mint(msg.sender, feeAmount);
        } else if (asset.token == address(0)) {
            if (toAmount > 0) _sendEth(to, toAmount);
            if (feeAmount > 0) _sendEth(msg.sender, feeAmount);
        } else {
            if (toAmount > 0) IERC20(asset.token).safeTransfer(to, toAmount);
            if (feeAmount > 0) IERC20(asset.token).safeTransfer(msg.sender, feeAmount);
        }
        emit TransferCompleted(digest, to, t.amount, t.fee);
    }

    function _sendEth(address to, uint256 amount) private {
        (bool ok,) = payable(to).call{value: amount}("");
        require(ok, "NOT_RECIPIENT: the recipient refused ETH");
    }

    function _isEvmAddress(bytes32 b) private pure returns (bool) {
        return uint256(b) >> 160 == 0;
    }
}
