// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @title NaiveLotStore: the design EnergyLedger is measured against, not used by the system.
/// @notice Stores every lot as a struct in contract storage, takes an ABI array of structs, and emits a
/// fully typed event: the obvious design, whose gas per lot the benchmark prints beside EnergyLedger's.
contract NaiveLotStore {
    struct Lot {
        uint64 lotId;
        uint64 slot;
        address seller;
        address buyer;
        uint64 energyWh;
        uint64 priceTicks;
        uint64 wheelingFeeTicks;
        uint8 flags;
        uint64 sellOrderId;
        uint64 buyOrderId;
    }

    address public immutable operator;
    mapping(uint64 => Lot) public lots;

    error NotOperator(address caller);
    error LotAlreadyRecorded(uint64 lotId);

    event LotRecorded(
        uint64 indexed slot,
        address indexed seller,
        address indexed buyer,
        uint64 lotId,
        uint64 energyWh,
        uint64 priceTicks,
        uint64 wheelingFeeTicks,
        uint8 flags,
        uint64 sellOrderId,
        uint64 buyOrderId
    );

    constructor(address operator_) {
        operator = operator_;
    }

    function recordLots(Lot[] calldata batch) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        for (uint256 i; i < batch.length; ++i) {
            Lot calldata lot = batch[i];
            if (lots[lot.lotId].lotId != 0) revert LotAlreadyRecorded(lot.lotId);
            lots[lot.lotId] = lot;
            emit LotRecorded(
                lot.slot, lot.seller, lot.buyer, lot.lotId, lot.energyWh, lot.priceTicks,
                lot.wheelingFeeTicks, lot.flags, lot.sellOrderId, lot.buyOrderId
            );
        }
    }
}
