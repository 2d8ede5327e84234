// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title WrappedToken: an asset from another chain (wRTC and any wrapped token) as an ERC-20 on Ethereum.
///
/// Rules:
///   - deployed by the gateway in createWrapped(vaa) with CREATE2, salt keccak256(tokenChain u16 ‖ tokenAddress 32);
///   - `decimals` = min(home decimals, 8), so one unit is exactly one unit of a bridge payload amount;
///   - only the gateway that deployed it mints (inbound transfers, refunds) and burns (outbound transfers);
///   - the gateway burns from a holder only within the allowance the holder gave it, like an escrowed transferFrom.
contract WrappedToken is ERC20 {
    address public immutable gateway;
    /// The home identity of the asset (docs/bridge.md, "Payloads").
    uint16 public immutable tokenChain;
    bytes32 public immutable tokenAddress;
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint16 tokenChain_, bytes32 tokenAddress_)
        ERC20(name_, symbol_)
    {
        gateway = msg.sender;
        _decimals = decimals_;
        tokenChain = tokenChain_;
        tokenAddress = tokenAddress_;
    }

    modifier onlyGateway() {
        require(msg.sender == gateway, "WrappedToken: caller is not the gateway");
        _;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external onlyGateway {
        _mint(to, amount);
    }

    function burnFrom(address from, uint256 amount) external onlyGateway {
        _spendAllowance(from, msg.sender, amount);
        _burn(from, amount);
    }
}
