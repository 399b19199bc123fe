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
///
/// Settlement (issue 5, docs/settlement-rules.md "On chain"): the contract is also the settlement token
/// (ERC-20 style, 1 unit = 1e-5 JPY = 1 Wh x 1 tick, DESIGN.md Units). recordLots keeps, per slot, a running
/// hash of the packed lots it recorded; settleSlot takes the slot's lots again (checked against that hash, so
/// no lot can be left out, added or altered), the Wh each seller delivered to and each buyer consumed of each
/// lot, and every party's meter reading; it computes every amount itself from the recorded prices and moves
/// the netted balances. A settled slot takes no more lots and cannot be settled again.
contract EnergyLedger {
    uint256 public constant LOT_BYTES = 75;

    /// @notice Lots in one batch at most: ~4,000 gas a lot keeps a full batch far below the
    /// 16,777,216 gas a transaction may use (EIP-7825).
    uint256 public constant MAX_BATCH = 1000;

    uint8 public constant FLAG_GREEN = 1;
    uint8 public constant FLAG_RENEWABLE = 2;

    // ---- settlement token (ERC-20 style) ----
    string public constant name = "P2P Energy settlement yen";
    string public constant symbol = "PJPY";
    /// @notice 1 unit = 1e-5 JPY = the money of 1 Wh at 1 tick (0.01 JPY/kWh), so amounts are exact integers.
    uint8 public constant decimals = 5;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    // ---- settlement ----
    /// @notice settleSlot policy bits (docs/settlement-rules.md, Policy).
    uint8 public constant POLICY_SELLER_COMPENSATES_SHORTFALL = 1;
    uint8 public constant POLICY_SHORTFALL_NET_OF_WHEELING = 2;
    uint8 public constant POLICY_BUYER_COMPENSATES_UNDERCONSUMPTION = 4;
    /// @notice Per lot in settleSlot's `flows`: delivered Wh (5 bytes) | consumed Wh (5 bytes).
    uint256 public constant FLOW_BYTES = 10;
    /// @notice Per party in settleSlot's `parties`: meter (20) | participant (20) | import Wh (5) | export Wh (5).
    uint256 public constant PARTY_BYTES = 50;

    /// @notice The account that receives wheeling and retail money and pays buy-back (the grid operator).
    address public gridOperator;

    /// @notice Root of the Merkle tree of a slot's meter readings, stored when the slot is settled.
    mapping(uint64 => bytes32) public readingsRoot;

    /// @dev Per slot: running hash of its recorded lots, h = keccak256(h || packed lot), from 0; SETTLED after settlement.
    mapping(uint64 => bytes32) private _slotLots;
    bytes32 private constant SETTLED = bytes32(type(uint256).max);

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
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    error GridOperatorNotSet();
    error InvalidSlot(uint64 slot);
    error InvalidPolicy(uint8 policy);
    error SlotAlreadySettled(uint64 slot);
    error LotsMismatch(uint64 slot);
    error LotOfAnotherSlot(uint64 lotId, uint64 slot);
    error MalformedSettlement(string reason);
    error SettledAboveContracted(uint64 lotId, uint256 energyWh, uint256 contractedWh);
    error InvalidParty(uint256 index, string reason);
    error DuplicateParty(address participant);
    error MissingParty(uint64 lotId, address participant);
    error AboveMetered(address participant, uint256 allocatedWh, uint256 meteredWh);

    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event OperatorSet(address indexed operator, bool enabled);

    /// @notice One matched lot. `lot` packs, from the most significant byte: lot id (8 bytes), energy Wh
    /// (5), price ticks (4), wheeling fee ticks (3), flags (1), sell order id (5), buy order id (5), 0 (1).
    /// Use decodeLot to unpack it. Money of the lot = Wh x price, in 1e-5 JPY.
    event LotRecorded(uint64 indexed slot, address indexed seller, address indexed buyer, bytes32 lot);

    /// @notice The Merkle root of a slot's signed orders; leaf = keccak256(abi.encode(orderId, orderDigest)).
    event OrderRootCommitted(uint64 indexed slot, bytes32 root, uint32 orders);

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event GridOperatorSet(address indexed gridOperator);

    /// @notice One settled lot: what its seller delivered to it and its buyer consumed of it (each at most
    /// the contracted Wh); settled = min(delivered, consumed).
    event LotSettled(uint64 indexed slot, uint64 lotId, uint256 deliveredWh, uint256 consumedWh, uint256 settledWh);

    /// @notice One party of a settled slot: its meter reading (meter 0: no reading, settled as 0/0) and its
    /// net money for the slot (positive: received). Balances moved by this amount (Transfer events).
    event PartySettled(uint64 indexed slot, address indexed participant, address meter, uint256 importWh, uint256 exportWh, int256 net);

    /// @notice A settled slot: the readings root, the grid prices and policy used, and the grid operator's net.
    event SlotSettled(
        uint64 indexed slot,
        bytes32 readingsRoot,
        uint32 lots,
        uint32 parties,
        uint32 retailTicks,
        uint32 buyBackTicks,
        uint8 policy,
        int256 gridNet
    );

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
        // The running lot hash of the slot being recorded, kept in memory while consecutive lots share a slot.
        uint64 hashSlot;
        bytes32 lotsHash;
        for (uint256 i; i < n; ++i) {
            uint256 at;
            uint256 w0;
            uint256 w1;
            uint256 w2;
            assembly {
                at := add(batch.offset, mul(i, 75))
                w0 := calldataload(at) // lot id | slot | seller
                w1 := calldataload(add(at, 32)) // buyer | Wh | price | fee
                w2 := calldataload(add(at, 64)) // flags | sell order | buy order | (next lot's bytes)
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

            uint64 slot = uint64(uint32(w0 >> 160));
            if (slot == 0) revert InvalidLot(lotId, "slot 0");
            if (slot != hashSlot) {
                if (hashSlot != 0) _slotLots[hashSlot] = lotsHash;
                hashSlot = slot;
                lotsHash = _slotLots[slot];
                if (lotsHash == SETTLED) revert SlotAlreadySettled(slot);
            }
            lotsHash = _chainLot(lotsHash, at);

            bytes32 packed = bytes32(((w0 >> 192) << 192) | (uint256(uint96(w1)) << 96) | ((w2 >> 168) << 8));
            emit LotRecorded(slot, seller, buyer, packed);
        }
        _recorded[wordIndex] = word;
        if (hashSlot != 0) _slotLots[hashSlot] = lotsHash;
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

    // ---------------------------------------------------------------- settlement token

    function setGridOperator(address gridOperator_) external onlyAdmin {
        if (gridOperator_ == address(0)) revert ZeroAddress();
        gridOperator = gridOperator_;
        emit GridOperatorSet(gridOperator_);
    }

    /// @notice The operator credits money paid in off chain (a deposit) to an account: new tokens.
    function deposit(address account, uint256 amount) external onlyOperator {
        if (account == address(0)) revert ZeroAddress();
        totalSupply += amount;
        balanceOf[account] += amount;
        emit Transfer(address(0), account, amount);
    }

    /// @notice A holder takes money out (paid out off chain by the operator): its tokens are burnt.
    function withdraw(uint256 amount) external {
        _debit(msg.sender, amount);
        totalSupply -= amount;
        emit Transfer(msg.sender, address(0), amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        if (to == address(0)) revert ZeroAddress();
        _debit(msg.sender, amount);
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (to == address(0)) revert ZeroAddress();
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < amount) revert InsufficientAllowance(msg.sender, allowed, amount);
            allowance[from][msg.sender] = allowed - amount;
        }
        _debit(from, amount);
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
        return true;
    }

    function _debit(address account, uint256 amount) private {
        uint256 balance = balanceOf[account];
        if (balance < amount) revert InsufficientBalance(account, balance, amount);
        unchecked {
            balanceOf[account] = balance - amount;
        }
    }

    // ---------------------------------------------------------------- settlement

    struct Party {
        address participant;
        uint256 importWh;
        uint256 exportWh;
        uint256 importUsed; // Wh of the import allocated to its buy lots
        uint256 exportUsed; // Wh of the export allocated to its sell lots
        int256 net; // money received minus money paid in the slot, 1e-5 JPY
    }

    struct Prices {
        uint64 slot;
        uint256 retail;
        uint256 buyBack;
        uint8 policy;
        int256 gridNet;
    }

    /// @notice Whether a slot has been settled (it then takes no more lots).
    function isSettled(uint64 slot) external view returns (bool) {
        return _slotLots[slot] == SETTLED;
    }

    /// @notice The running hash of a slot's recorded lots (what settleSlot checks its lots against); 0 when none.
    function slotLotsHash(uint64 slot) external view returns (bytes32) {
        return _slotLots[slot];
    }

    /// @notice Settles a slot once (docs/settlement-rules.md). `lots`: the slot's lots exactly as recorded, in
    /// recording order (LOT_BYTES each). `flows`: per lot, delivered and consumed Wh (FLOW_BYTES each), each at
    /// most the lot's Wh. `parties`: every lot party and every other metered participant (PARTY_BYTES each), in
    /// ascending (meter, participant) order; meter 0 means no reading (then import and export are 0), every
    /// other meter appears once and its reading is a leaf of the slot's readings tree. The contract checks the
    /// allocations against the readings, computes every amount from the recorded prices, the grid prices and
    /// the policy, stores the readings root and moves the netted balances (debtors first; a debtor without the
    /// balance refuses the whole settlement).
    function settleSlot(
        uint64 slot,
        bytes calldata lots,
        bytes calldata flows,
        bytes calldata parties,
        uint32 retailTicks,
        uint32 buyBackTicks,
        uint8 policy
    ) external onlyOperator {
        _settle(Prices(slot, retailTicks, buyBackTicks, policy, 0), lots, flows, parties);
    }

    function _settle(Prices memory c, bytes calldata lots, bytes calldata flows, bytes calldata parties) private {
        if (c.slot == 0) revert InvalidSlot(c.slot);
        if (_slotLots[c.slot] == SETTLED) revert SlotAlreadySettled(c.slot);
        if (gridOperator == address(0)) revert GridOperatorNotSet();
        if (c.policy > 7) revert InvalidPolicy(c.policy);
        uint256 nLots = lots.length / LOT_BYTES;
        if (lots.length != nLots * LOT_BYTES) revert MalformedSettlement("lots");
        if (flows.length != nLots * FLOW_BYTES) revert MalformedSettlement("flows");
        uint256 nParties = parties.length / PARTY_BYTES;
        if (parties.length != nParties * PARTY_BYTES) revert MalformedSettlement("parties");
        if (nParties == 0 && nLots == 0) revert MalformedSettlement("nothing to settle");

        Party[] memory p = _loadParties(parties, nParties);
        bytes32 root = _readingsRoot(c.slot, parties, nParties);
        if (_settleLots(c, lots, flows, nLots, p) != _slotLots[c.slot]) revert LotsMismatch(c.slot);
        _settleGrid(c, p);

        _slotLots[c.slot] = SETTLED;
        readingsRoot[c.slot] = root;
        _emitSlotSettled(c, root, nLots, nParties);
        _moveMoney(c, p, parties);
    }

    function _emitSlotSettled(Prices memory c, bytes32 root, uint256 nLots, uint256 nParties) private {
        emit SlotSettled(c.slot, root, uint32(nLots), uint32(nParties), uint32(c.retail), uint32(c.buyBack), c.policy, c.gridNet);
    }

    /// @dev Debtors pay into the clearing (this contract) first, then creditors are paid from it: the nets sum to 0.
    function _moveMoney(Prices memory c, Party[] memory p, bytes calldata parties) private {
        uint256 n = p.length;
        for (uint256 i; i < n; ++i) {
            address meter = address(bytes20(parties[i * PARTY_BYTES:i * PARTY_BYTES + 20]));
            emit PartySettled(c.slot, p[i].participant, meter, p[i].importWh, p[i].exportWh, p[i].net);
            if (p[i].net < 0) _payIn(p[i].participant, uint256(-p[i].net));
        }
        if (c.gridNet < 0) _payIn(gridOperator, uint256(-c.gridNet));
        for (uint256 i; i < n; ++i) {
            if (p[i].net > 0) _payOut(p[i].participant, uint256(p[i].net));
            _forgetParty(p[i].participant);
        }
        if (c.gridNet > 0) _payOut(gridOperator, uint256(c.gridNet));
    }

    function _payIn(address account, uint256 amount) private {
        _debit(account, amount);
        emit Transfer(account, address(this), amount);
    }

    function _payOut(address account, uint256 amount) private {
        balanceOf[account] += amount;
        emit Transfer(address(this), account, amount);
    }

    /// @dev Reads the parties, checks their order, and indexes them by participant in transient storage
    /// (slot = the participant's address, value = index + 1) for the lots' look-ups.
    function _loadParties(bytes calldata parties, uint256 n) private returns (Party[] memory p) {
        p = new Party[](n);
        address grid = gridOperator;
        address prevMeter;
        address prevParticipant;
        for (uint256 i; i < n; ++i) {
            uint256 o = i * PARTY_BYTES;
            address meter = address(bytes20(parties[o:o + 20]));
            address participant = address(bytes20(parties[o + 20:o + 40]));
            uint256 w = uint256(bytes32(parties[o + 40:o + 50]));
            uint256 importWh = w >> 216;
            uint256 exportWh = (w >> 176) & 0xFFFFFFFFFF;
            if (participant == address(0)) revert InvalidParty(i, "participant 0");
            if (participant == grid) revert InvalidParty(i, "grid operator");
            if (meter == address(0)) {
                if (prevMeter != address(0) || (i > 0 && participant <= prevParticipant)) revert InvalidParty(i, "order");
                if (importWh != 0 || exportWh != 0) revert InvalidParty(i, "energy without a meter");
            } else if (meter <= prevMeter) {
                revert InvalidParty(i, "order");
            }
            uint256 key = uint160(participant); // clean upper bits before the assembly
            uint256 seen;
            assembly {
                seen := tload(key)
                tstore(key, add(i, 1))
            }
            if (seen != 0) revert DuplicateParty(participant);
            p[i] = Party(participant, importWh, exportWh, 0, 0, 0);
            prevMeter = meter;
            prevParticipant = participant;
        }
    }

    function _forgetParty(address participant) private {
        uint256 key = uint160(participant);
        assembly {
            tstore(key, 0)
        }
    }

    function _partyIndex(address participant, uint64 lotId) private view returns (uint256 index) {
        uint256 key = uint160(participant);
        assembly {
            index := tload(key)
        }
        if (index == 0) revert MissingParty(lotId, participant);
        unchecked {
            return index - 1;
        }
    }

    /// @dev The readings tree of MeterReadingMerkleTree (C#): leaf = keccak256(abi.encode(meter, participant,
    /// slot, importWh, exportWh)) in ascending meter order, sorted-pair inner nodes, an odd last node promoted.
    function _readingsRoot(uint64 slot, bytes calldata parties, uint256 n) private pure returns (bytes32) {
        bytes32[] memory level = new bytes32[](n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            uint256 o = i * PARTY_BYTES;
            address meter = address(bytes20(parties[o:o + 20]));
            if (meter == address(0)) continue;
            uint256 w = uint256(bytes32(parties[o + 40:o + 50]));
            level[count++] = keccak256(
                abi.encode(meter, address(bytes20(parties[o + 20:o + 40])), slot, uint64(w >> 216), uint64((w >> 176) & 0xFFFFFFFFFF))
            );
        }
        if (count == 0) return bytes32(0);
        while (count > 1) {
            uint256 half = count / 2;
            for (uint256 i; i < half; ++i) {
                bytes32 a = level[2 * i];
                bytes32 b = level[2 * i + 1];
                level[i] = a <= b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
            }
            if (count % 2 == 1) level[half] = level[count - 1];
            count = half + count % 2;
        }
        return level[0];
    }

    /// @dev Settles each lot (docs/settlement-rules.md, Money per lot) and returns the running hash of the lots.
    function _settleLots(Prices memory c, bytes calldata lots, bytes calldata flows, uint256 n, Party[] memory p)
        private
        returns (bytes32 lotsHash)
    {
        for (uint256 i; i < n; ++i) {
            uint256 at;
            uint256 f;
            assembly {
                at := add(lots.offset, mul(i, 75))
                f := calldataload(add(flows.offset, mul(i, 10)))
            }
            lotsHash = _chainLot(lotsHash, at);
            _settleLot(c, at, f, p);
        }
    }

    function _settleLot(Prices memory c, uint256 at, uint256 f, Party[] memory p) private {
        uint256 w0;
        uint256 w1;
        assembly {
            w0 := calldataload(at) // lot id | slot | seller
            w1 := calldataload(add(at, 32)) // buyer | Wh | price | fee
        }
        uint64 lotId = uint64(w0 >> 192);
        if (uint32(w0 >> 160) != c.slot) revert LotOfAnotherSlot(lotId, uint32(w0 >> 160));
        uint256 contracted = (w1 >> 56) & 0xFFFFFFFFFF;
        uint256 delivered = f >> 216;
        uint256 consumed = (f >> 176) & 0xFFFFFFFFFF;
        if (delivered > contracted) revert SettledAboveContracted(lotId, delivered, contracted);
        if (consumed > contracted) revert SettledAboveContracted(lotId, consumed, contracted);
        Party memory seller = p[_partyIndex(address(uint160(w0)), lotId)];
        Party memory buyer = p[_partyIndex(address(uint160(w1 >> 96)), lotId)];
        seller.exportUsed += delivered;
        buyer.importUsed += consumed;
        uint256 settled = _lotMoney(c, seller, buyer, delivered, consumed, w1);
        emit LotSettled(c.slot, lotId, delivered, consumed, settled);
    }

    function _lotMoney(Prices memory c, Party memory seller, Party memory buyer, uint256 delivered, uint256 consumed, uint256 w1)
        private
        pure
        returns (uint256 settled)
    {
        // DESIGN.md, Settlement: settled = min(delivered, consumed).
        settled = delivered < consumed ? delivered : consumed;
        uint256 shortfall = consumed - settled;
        uint256 over = delivered - settled;
        uint256 price = (w1 >> 24) & 0xFFFFFFFF;
        uint256 fee = w1 & 0xFFFFFF;
        // Energy buyer -> seller; wheeling buyer -> grid; shortfall bought from the grid at retail; over-delivery
        // sold to the grid at buy-back (docs/settlement-rules.md, Money per lot).
        {
            int256 energy = int256(settled * price);
            int256 toGrid = int256(settled * fee + shortfall * c.retail);
            int256 overGrid = int256(over * c.buyBack);
            buyer.net -= energy + toGrid;
            seller.net += energy + overGrid;
            c.gridNet += toGrid - overGrid;
        }
        if (c.policy & POLICY_SELLER_COMPENSATES_SHORTFALL != 0) {
            fee = price + (c.policy & POLICY_SHORTFALL_NET_OF_WHEELING != 0 ? fee : 0); // the rate's floor
            int256 compensation = int256(shortfall * (c.retail > fee ? c.retail - fee : 0));
            seller.net -= compensation;
            buyer.net += compensation;
        }
        if (c.policy & POLICY_BUYER_COMPENSATES_UNDERCONSUMPTION != 0) {
            int256 compensation = int256(over * (price > c.buyBack ? price - c.buyBack : 0));
            buyer.net -= compensation;
            seller.net += compensation;
        }
    }

    /// @dev Allocations within the readings; import not bought at retail, export not sold at buy-back.
    function _settleGrid(Prices memory c, Party[] memory p) private pure {
        for (uint256 i; i < p.length; ++i) {
            Party memory q = p[i];
            if (q.exportUsed > q.exportWh) revert AboveMetered(q.participant, q.exportUsed, q.exportWh);
            if (q.importUsed > q.importWh) revert AboveMetered(q.participant, q.importUsed, q.importWh);
            int256 retail = int256((q.importWh - q.importUsed) * c.retail);
            int256 buyBack = int256((q.exportWh - q.exportUsed) * c.buyBack);
            q.net += buyBack - retail;
            c.gridNet += retail - buyBack;
        }
    }

    /// @dev keccak256(lotsHash || the LOT_BYTES packed lot at calldata offset `at`).
    function _chainLot(bytes32 lotsHash, uint256 at) private pure returns (bytes32 h) {
        assembly {
            let m := mload(0x40)
            mstore(m, lotsHash)
            calldatacopy(add(m, 32), at, 75)
            h := keccak256(m, 107)
        }
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
