// The gateway ABI the relayer and the CLI use: the functions and events of docs/bridge.md ("Gateways") that both
// gateways share, in viem's human-readable form.
import { parseAbi } from "viem";

export const gatewayAbi = parseAbi([
  "event LogMessagePublished(address indexed sender, uint64 sequence, uint32 nonce, bytes payload, uint8 consistencyLevel)",
  "event TransferCompleted(bytes32 indexed digest, address indexed to, uint256 amount, uint256 fee)",
  "event TransferQueued(bytes32 indexed digest, uint64 releaseTime)",
  "event TransferCancelled(bytes32 indexed digest, uint64 refundSequence)",
  "event TransferRefunded(uint64 indexed sequence, address indexed sender, uint256 amount)",
  "function transferNative(uint16 toChain, bytes32 to, uint256 fee, uint32 nonce) payable returns (uint64)",
  "function transferTokens(address token, uint256 amount, uint16 toChain, bytes32 to, uint256 fee, uint32 nonce) returns (uint64)",
  "function attestToken(address token, uint32 nonce) returns (uint64)",
  "function completeTransfer(bytes vaa)",
  "function releaseQueued(bytes body)",
  "function cancelTransfer(bytes vaa) returns (uint64)",
  "function refund(bytes vaa)",
  "function submitGovernance(bytes vaa)",
  "function isCompleted(bytes32 digest) view returns (bool)",
  "function queuedUntil(bytes32 digest) view returns (uint64)",
  "function isPaused(uint16 tokenChain, bytes32 tokenAddress) view returns (bool)",
  "function outbound(uint64 sequence) view returns (address sender, address token, uint256 amount, bool refunded)",
  "function wrappedAsset(uint16 tokenChain, bytes32 tokenAddress) view returns (address)",
  "function guardianSetIndex() view returns (uint32)",
  "function guardianSet(uint32 index) view returns (address[] keys, uint64 expiry)",
]);
