// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @title EnergyLedger: the on-chain record of every lot a P2P Energy market matched.
/// @notice Only an operator (the exchange's key) records lots, in batches; a lot id is recorded once,
/// ever. Each lot emits one LotRecorded event that holds everything an auditor needs. Each lot names
/// the two signed orders it came from by order id; once a slot's gate has closed, the operator commits
/// the Merkle root of that slot's signed orders, so anyone holding an order and its proof (served by the
/// exchange over gRPC) can show that both parties signed what was traded.
/// @dev Lots arrive packed (LOT_BYTES each, big-endian, no padding) because calldata and log bytes are
/// what a lot costs once batched (../shared/CHAIN-NOTES.md):
///   [0,8) lot id | [8,12) slot | [12,32) seller | [32,52) buyer | [52,57) energy Wh | [57,61) price
///   ticks | [61,64) wheeling fee ticks | [64] flags | [65,70) sell order id | [70,75) buy order id
/// flags: bit 0 = green product, bit 1 = renewable source.
contract EnergyLedger {
    uint256 public constant LOT_BYTES = 75;

    /// @notice Lots in one batch at most: ~4,000 gas a lot keeps a full batch far below the
    /// 16,777,216 gas a transaction may use (EIP-7825).
    uint256 public constant MAX_BATCH = 1000;

    uint8 public constant FLAG_GREEN = 1;
    uint8 public constant FLAG_RENEWABLE = 2;

    address public admin;
    mapping(address => bool) public isOperator;

    /// @notice Lots recorded so far.
    uint64 public lotCount;

    /// @notice Root of the Merkle tree of a slot's signed orders (0 until committed).
    mapping(uint64 => bytes32) public orderRoot;

    /// @dev One bit per lot id: word lotId >> 8, bit lotId & 255.
    mapping(uint256 => uint256) private _recorded;

    error NotAdmin(address caller);
    error NotOperator(address caller);
    error ZeroAddress();
    error EmptyBatch();
    error MalformedBatch(uint256 length);
    error BatchTooLarge(uint256 lots, uint256 max);
    error LotAlreadyRecorded(uint64 lotId);
    error InvalidLot(uint64 lotId, string reason);
    error OrderRootAlreadyCommitted(uint64 slot);
    error InvalidOrderRoot(uint64 slot);

    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event OperatorSet(address indexed operator, bool enabled);

    /// @notice One matched lot. `lot` packs, from the most significant byte: lot id (8 bytes), energy Wh
    /// (5), price ticks (4), wheeling fee ticks (3), flags (1), sell order id (5), buy order id (5), 0 (1).
    /// Use decodeLot to unpack it. Money of the lot = Wh x price, in 1e-5 JPY.
    event LotRecorded(uint64 indexed slot, address indexed seller, address indexed buyer, bytes32 lot);

    /// @notice The Merkle root of a slot's signed orders; leaf = keccak256(abi.encode(orderId, orderDigest)).
    event OrderRootCommitted(uint64 indexed slot, bytes32 root, uint32 orders);

    constructor(address admin_, address operator_) {
        if (admin_ == address(0) || operator_ == address(0)) revert ZeroAddress();
        admin = admin_;
        isOperator[operator_] = true;
        emit AdminTransferred(address(0), admin_);
        emit OperatorSet(operator_, true);
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    modifier onlyOperator() {
        if (!isOperator[msg.sender]) revert NotOperator(msg.sender);
        _;
    }

    function transferAdmin(address newAdmin) external onlyAdmin {
        if (newAdmin == address(0)) revert ZeroAddress();
        emit AdminTransferred(admin, newAdmin);
        admin = newAdmin;
    }

    function setOperator(address operator, bool enabled) external onlyAdmin {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[operator] = enabled;
        emit OperatorSet(operator, enabled);
    }

    /// @notice Records a batch of packed lots. Refuses the whole batch if any lot id was recorded before
    /// (or appears twice in it), so a retried batch can never record a lot twice.
    function recordLots(bytes calldata batch) external onlyOperator {
        uint256 n = batch.length / LOT_BYTES;
        if (n == 0) revert EmptyBatch();
        if (batch.length != n * LOT_BYTES) revert MalformedBatch(batch.length);
        if (n > MAX_BATCH) revert BatchTooLarge(n, MAX_BATCH);

        // Lot ids of a batch are mostly consecutive: keep the current bitmap word in memory and write it
        // back only when the next lot falls into another word.
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        for (uint256 i; i < n; ++i) {
            uint256 w0;
            uint256 w1;
            uint256 w2;
            assembly {
                let p := add(batch.offset, mul(i, 75))
                w0 := calldataload(p) // lot id | slot | seller
                w1 := calldataload(add(p, 32)) // buyer | Wh | price | fee
                w2 := calldataload(add(p, 64)) // flags | sell order | buy order | (next lot's bytes)
            }
            uint64 lotId = uint64(w0 >> 192);
            address seller = address(uint160(w0));
            address buyer = address(uint160(w1 >> 96));
            if (lotId == 0) revert InvalidLot(0, "lot id 0");
            if (seller == buyer) revert InvalidLot(lotId, "seller is buyer");
            if ((w1 >> 56) & 0xFFFFFFFFFF == 0) revert InvalidLot(lotId, "no energy");

            uint256 index = lotId >> 8;
            if (index != wordIndex) {
                if (wordIndex != type(uint256).max) _recorded[wordIndex] = word;
                wordIndex = index;
                word = _recorded[index];
            }
            uint256 bit = 1 << (lotId & 255);
            if (word & bit != 0) revert LotAlreadyRecorded(lotId);
            word |= bit;

            bytes32 packed = bytes32(((w0 >> 192) << 192) | (uint256(uint96(w1)) << 96) | ((w2 >> 168) << 8));
            emit LotRecorded(uint64(uint32(w0 >> 160)), seller, buyer, packed);
        }
        _recorded[wordIndex] = word;
        unchecked {
            lotCount += uint64(n);
        }
    }

    /// @notice Commits the Merkle root of a slot's signed orders, once per slot.
    function commitOrderRoot(uint64 slot, bytes32 root, uint32 orders) external onlyOperator {
        if (root == bytes32(0) || orders == 0) revert InvalidOrderRoot(slot);
        if (orderRoot[slot] != bytes32(0)) revert OrderRootAlreadyCommitted(slot);
        orderRoot[slot] = root;
        emit OrderRootCommitted(slot, root, orders);
    }

    function isRecorded(uint64 lotId) external view returns (bool) {
        return _recorded[lotId >> 8] & (1 << (lotId & 255)) != 0;
    }

    /// @notice Unpacks the `lot` word of a LotRecorded event.
    function decodeLot(bytes32 lot)
        external
        pure
        returns (
            uint64 lotId,
            uint40 energyWh,
            uint32 priceTicks,
            uint24 wheelingFeeTicks,
            uint8 flags,
            uint40 sellOrderId,
            uint40 buyOrderId
        )
    {
        uint256 v = uint256(lot);
        lotId = uint64(v >> 192);
        energyWh = uint40(v >> 152);
        priceTicks = uint32(v >> 120);
        wheelingFeeTicks = uint24(v >> 96);
        flags = uint8(v >> 88);
        sellOrderId = uint40(v >> 48);
        buyOrderId = uint40(v >> 8);
    }
}
