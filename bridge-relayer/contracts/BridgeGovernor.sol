// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BridgeGovernor: per-asset limits on inbound transfers (docs/bridge.md, "Governor").
///
/// Settings per asset (by home identity, amounts normalised to 8 decimals; 0 turns a rule off), set by governance:
///   - threshold: a transfer with amount >= threshold is queued until now + delay;
///   - dailyLimit: a transfer that would take the asset's flow in the current day window (floor(timestamp / 86400))
///     above dailyLimit is queued until the start of the next window, or now + delay if that is later.
/// A transfer that is not queued adds its amount to the window's flow (tracked while dailyLimit != 0); queued amounts never count towards a window,
/// neither when queued nor when released. The queue holds only digests and release times: the gateway recomputes
/// the digest from the body handed to releaseQueued, so nothing else about the transfer needs storing.
abstract contract BridgeGovernor {
    uint64 internal constant WINDOW_SECONDS = 86400;

    struct Limits {
        uint256 dailyLimit;
        uint256 threshold;
        uint32 delay;
        /// the day window `flow` belongs to
        uint64 window;
        uint256 flow;
    }

    mapping(bytes32 => Limits) private _limits;
    mapping(bytes32 => uint64) private _queuedUntil;

    event GovernorSet(bytes32 indexed assetKey, uint256 dailyLimit, uint256 threshold, uint32 delay);

    /// 0 when the transfer with this digest is not queued, else the time from which releaseQueued pays it out.
    function queuedUntil(bytes32 digest) public view returns (uint64) {
        return _queuedUntil[digest];
    }

    /// An asset's governor settings and its flow in the current day window.
    function governor(uint16 tokenChain, bytes32 tokenAddress)
        external
        view
        returns (uint256 dailyLimit, uint256 threshold, uint32 delay, uint256 flowToday)
    {
        Limits storage l = _limits[_assetKey(tokenChain, tokenAddress)];
        flowToday = l.window == uint64(block.timestamp) / WINDOW_SECONDS ? l.flow : 0;
        return (l.dailyLimit, l.threshold, l.delay, flowToday);
    }

    function _assetKey(uint16 tokenChain, bytes32 tokenAddress) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(tokenChain, tokenAddress));
    }

    function _setGovernor(bytes32 assetKey, uint256 dailyLimit, uint256 threshold, uint32 delay) internal {
        Limits storage l = _limits[assetKey];
        l.dailyLimit = dailyLimit;
        l.threshold = threshold;
        l.delay = delay;
        emit GovernorSet(assetKey, dailyLimit, threshold, delay);
    }

    /// Admits an inbound transfer of `amount` (normalised): returns 0 when it may be paid out now (and counts it in the
    /// day window), or queues `digest` and returns its release time.
    function _admit(bytes32 assetKey, bytes32 digest, uint256 amount) internal returns (uint64 releaseTime) {
        Limits storage l = _limits[assetKey];
        uint256 dailyLimit = l.dailyLimit;
        uint256 threshold = l.threshold;
        if (dailyLimit == 0 && threshold == 0) return 0;

        uint64 nowTs = uint64(block.timestamp);
        uint64 window = nowTs / WINDOW_SECONDS;
        uint256 flow = l.window == window ? l.flow : 0;
        uint64 afterDelay = nowTs + l.delay;
        if (threshold != 0 && amount >= threshold) {
            releaseTime = afterDelay;
        } else if (dailyLimit != 0 && (flow >= dailyLimit || amount > dailyLimit - flow)) {
            uint64 nextWindow = (window + 1) * WINDOW_SECONDS;
            releaseTime = afterDelay > nextWindow ? afterDelay : nextWindow;
        }
        if (releaseTime != 0) {
            _queuedUntil[digest] = releaseTime;
            return releaseTime;
        }
        if (dailyLimit != 0) {
            // flow + amount <= dailyLimit here, so no overflow
            l.window = window;
            l.flow = flow + amount;
        }
        return 0;
    }

    /// Takes `digest` off the queue for payout (NOT_QUEUED, NOT_RELEASED).
    function _dequeueForRelease(bytes32 digest) internal {
        uint64 releaseTime = _queuedUntil[digest];
        require(releaseTime != 0, "NOT_QUEUED");
        require(block.timestamp >= releaseTime, "NOT_RELEASED");
        delete _queuedUntil[digest];
    }

    /// Takes `digest` off the queue without paying it out (a queued transfer being cancelled); false if not queued.
    function _dequeueForCancel(bytes32 digest) internal returns (bool wasQueued) {
        wasQueued = _queuedUntil[digest] != 0;
        if (wasQueued) delete _queuedUntil[digest];
    }
}
