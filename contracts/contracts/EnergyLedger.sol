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
///
/// A slot too big for one transaction (thousands of parties) is settled in pages instead: beginSettlement, then
/// settleLotsPage over the lots in recording order (the running hash is checked once all are given), then
/// settlePartiesPage over the parties with the last page closing the slot. The same rules, amounts and events;
/// per lot party, the amounts of the lot pages wait in storage for its party page.
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

    /// @notice The settlement clearing's money: paid in and not yet paid out by paged settlements still open (a
    /// settlement in one transaction nets to 0 within it). Negative while a paged settlement has paid creditors
    /// before all its debtors paid in: withdrawals then wait (ClearingShort), so no token leaves unbacked. At all
    /// times the balances plus the clearing make the total supply.
    int256 public clearing;
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
    /// @dev _slotLots of a slot whose paged settlement has begun (its lots hash is then kept in _paging).
    bytes32 private constant SETTLING = bytes32(type(uint256).max - 1);

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
    error SettlementInProgress(uint64 slot);
    error SettlementNotBegun(uint64 slot);
    error WrongPhase(uint64 slot, uint8 phase);
    error PageOutOfOrder(uint64 slot, uint32 expected, uint32 given);
    error PartiesMissing(uint64 slot, uint32 count);
    error ClearingShort(uint256 shortBy);

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

    /// @notice A paged settlement of the slot has begun, at these grid prices and policy (its pages follow).
    event SettlementBegun(uint64 indexed slot, uint32 retailTicks, uint32 buyBackTicks, uint8 policy);

    /// @notice One page of a paged settlement: `count` lots (phase 1) or parties (phase 2) from index `first`.
    /// The page's LotSettled, PartySettled and Transfer events are in the same transaction.
    event SettlementPage(uint64 indexed slot, uint8 phase, uint32 first, uint32 count);

    /// @notice A paged settlement aborted during its lot pages (nothing had moved): the slot is as before it began.
    event SettlementAborted(uint64 indexed slot, uint32 lotsDone);

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
                if (lotsHash == SETTLING) revert SettlementInProgress(slot);
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
        int256 c = clearing;
        if (c < 0) revert ClearingShort(uint256(-c));
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
        bytes32 h = _slotLots[slot];
        return h == SETTLING ? _paging[slot].expectedLots : h;
    }

    /// @notice Settles a slot once (docs/settlement-rules.md). `lots`: the slot's lots exactly as recorded, in
    /// recording order (LOT_BYTES each). `flows`: per lot, delivered and consumed Wh (FLOW_BYTES each), each at
    /// most the lot's Wh. `parties`: every lot party and every other metered participant (PARTY_BYTES each), in
    /// strictly ascending participant order (so each appears once); meter 0 means no reading (then import and
    /// export are 0), every other party's reading is a leaf of the slot's readings tree, in the same order. The contract checks the
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

    /// @dev What a settlement needs to start (settleSlot and beginSettlement); returns the slot's running lots hash.
    function _startChecks(uint64 slot, uint8 policy) private view returns (bytes32 lotsHash) {
        if (slot == 0) revert InvalidSlot(slot);
        lotsHash = _slotLots[slot];
        if (lotsHash == SETTLED) revert SlotAlreadySettled(slot);
        if (lotsHash == SETTLING) revert SettlementInProgress(slot);
        if (gridOperator == address(0)) revert GridOperatorNotSet();
        if (policy > 7) revert InvalidPolicy(policy);
    }

    function _settle(Prices memory c, bytes calldata lots, bytes calldata flows, bytes calldata parties) private {
        bytes32 expected = _startChecks(c.slot, c.policy);
        uint256 nLots = lots.length / LOT_BYTES;
        if (lots.length != nLots * LOT_BYTES) revert MalformedSettlement("lots");
        if (flows.length != nLots * FLOW_BYTES) revert MalformedSettlement("flows");
        uint256 nParties = parties.length / PARTY_BYTES;
        if (parties.length != nParties * PARTY_BYTES) revert MalformedSettlement("parties");
        if (nParties == 0 && nLots == 0) revert MalformedSettlement("nothing to settle");

        Party[] memory p = _loadParties(parties, nParties);
        bytes32 root = _readingsRoot(c.slot, parties, nParties);
        if (_settleLots(c, lots, flows, nLots, p) != expected) revert LotsMismatch(c.slot);
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

    /// @dev Reads the parties, checks their order (strictly ascending participant: each once), and indexes them
    /// by participant in transient storage (slot = the participant's address, value = index + 1) for the lots.
    function _loadParties(bytes calldata parties, uint256 n) private returns (Party[] memory p) {
        p = new Party[](n);
        address grid = gridOperator;
        address prev;
        for (uint256 i; i < n; ++i) {
            (, address participant, uint256 importWh, uint256 exportWh) = _readParty(parties, i, i, prev, grid);
            uint256 key = uint160(participant); // clean upper bits before the assembly
            assembly {
                tstore(key, add(i, 1))
            }
            p[i] = Party(participant, importWh, exportWh, 0, 0, 0);
            prev = participant;
        }
    }

    /// @dev Party i of a parties argument, checked: a participant (never 0 or the grid operator) above the previous
    /// one, and no energy without a meter. `index` is its place in the whole settlement (for the error).
    function _readParty(bytes calldata parties, uint256 i, uint256 index, address prev, address grid)
        private
        pure
        returns (address meter, address participant, uint256 importWh, uint256 exportWh)
    {
        uint256 o = i * PARTY_BYTES;
        meter = address(bytes20(parties[o:o + 20]));
        participant = address(bytes20(parties[o + 20:o + 40]));
        uint256 w = uint256(bytes32(parties[o + 40:o + 50]));
        importWh = w >> 216;
        exportWh = (w >> 176) & 0xFFFFFFFFFF;
        if (participant == address(0)) revert InvalidParty(index, "participant 0");
        if (participant == grid) revert InvalidParty(index, "grid operator");
        if (participant <= prev) {
            if (participant == prev) revert DuplicateParty(participant);
            revert InvalidParty(index, "order");
        }
        if (meter == address(0) && (importWh != 0 || exportWh != 0)) revert InvalidParty(index, "energy without a meter");
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
    /// slot, importWh, exportWh)) in the parties' (ascending participant) order, sorted-pair inner nodes, an odd last
    /// node promoted; built with the frontier the paged settlement uses.
    function _readingsRoot(uint64 slot, bytes calldata parties, uint256 n) private pure returns (bytes32) {
        bytes32[32] memory frontier;
        uint32 count;
        for (uint256 i; i < n; ++i) {
            uint256 o = i * PARTY_BYTES;
            address meter = address(bytes20(parties[o:o + 20]));
            if (meter == address(0)) continue;
            uint256 w = uint256(bytes32(parties[o + 40:o + 50]));
            bytes32 leaf = keccak256(abi.encode(meter, address(bytes20(parties[o + 20:o + 40])), slot, uint64(w >> 216), uint64((w >> 176) & 0xFFFFFFFFFF)));
            count = _pushLeaf(frontier, count, leaf);
        }
        return _frontierRoot(frontier, count);
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
        _settleLotOf(c, w0, w1, f, p[_partyIndex(address(uint160(w0)), lotId)], p[_partyIndex(address(uint160(w1 >> 96)), lotId)]);
    }

    /// @dev One lot (w0, w1: its first two calldata words; f: its flow word) between its seller and buyer.
    function _settleLotOf(Prices memory c, uint256 w0, uint256 w1, uint256 f, Party memory seller, Party memory buyer) private {
        uint64 lotId = uint64(w0 >> 192);
        if (uint32(w0 >> 160) != c.slot) revert LotOfAnotherSlot(lotId, uint32(w0 >> 160));
        uint256 contracted = (w1 >> 56) & 0xFFFFFFFFFF;
        uint256 delivered = f >> 216;
        uint256 consumed = (f >> 176) & 0xFFFFFFFFFF;
        if (delivered > contracted) revert SettledAboveContracted(lotId, delivered, contracted);
        if (consumed > contracted) revert SettledAboveContracted(lotId, consumed, contracted);
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
        for (uint256 i; i < p.length; ++i) _settlePartyGrid(c, p[i]);
    }

    function _settlePartyGrid(Prices memory c, Party memory q) private pure {
        if (q.exportUsed > q.exportWh) revert AboveMetered(q.participant, q.exportUsed, q.exportWh);
        if (q.importUsed > q.importWh) revert AboveMetered(q.participant, q.importUsed, q.importWh);
        int256 retail = int256((q.importWh - q.importUsed) * c.retail);
        int256 buyBack = int256((q.exportWh - q.exportUsed) * c.buyBack);
        q.net += buyBack - retail;
        c.gridNet += retail - buyBack;
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

    // ---------------------------------------------------------------- paged settlement

    /// @dev An open paged settlement of a slot.
    struct Paging {
        uint32 retail;
        uint32 buyBack;
        uint8 policy;
        uint8 phase; // PHASE_LOTS, then PHASE_PARTIES
        uint32 lotsDone;
        uint32 partiesDone;
        uint32 readings; // leaves of the readings tree so far
        uint32 openParties; // lot parties whose amounts wait for their party page
        address lastParticipant;
        bytes32 expectedLots; // the slot's running lots hash when the settlement began
        bytes32 lotsHash; // the running hash of the lots settled so far
        int256 gridNet;
    }

    /// @notice settlementProgress phases.
    uint8 public constant PHASE_LOTS = 1;
    uint8 public constant PHASE_PARTIES = 2;
    uint8 public constant PHASE_SETTLED = 3;

    mapping(uint64 => Paging) private _paging;

    /// @dev Per open paged settlement (key: _keptKey) and lot party, what its lots gave so far: 1 << 255 | import
    /// used << 192 | export used << 128 | uint128(net). Deleted when its party page settles it.
    mapping(uint256 => mapping(address => uint256)) private _lotParty;

    /// @dev Paged settlements of a slot aborted so far: a new attempt keeps its amounts apart from an aborted one's.
    mapping(uint64 => uint32) private _aborted;

    /// @dev Per open paged settlement, the readings tree's frontier: for each set bit h of `readings`, the root of
    /// the full subtree of the 2^h leaves before the later ones. Folding it from the lowest bit up gives the same
    /// root as the level-by-level tree with odd last nodes promoted (_readingsRoot, MeterReadingMerkleTree).
    mapping(uint64 => mapping(uint256 => bytes32)) private _frontier;

    /// @notice Where a slot's settlement stands: phase 0 (not begun, or settled in one transaction's time: see
    /// isSettled), PHASE_LOTS or PHASE_PARTIES with the lots and parties settled so far, or PHASE_SETTLED.
    function settlementProgress(uint64 slot) external view returns (uint8 phase, uint32 lotsDone, uint32 partiesDone) {
        if (_slotLots[slot] == SETTLED) return (PHASE_SETTLED, 0, 0);
        Paging storage g = _paging[slot];
        return (g.phase, g.lotsDone, g.partiesDone);
    }

    /// @notice Begins the paged settlement of a slot: from now on it takes no more lots, and settleSlot refuses it.
    /// The same checks as settleSlot's start; the prices and policy hold for every page.
    function beginSettlement(uint64 slot, uint32 retailTicks, uint32 buyBackTicks, uint8 policy) external onlyOperator {
        bytes32 lotsHash = _startChecks(slot, policy);
        _slotLots[slot] = SETTLING;
        Paging storage g = _paging[slot];
        g.retail = retailTicks;
        g.buyBack = buyBackTicks;
        g.policy = policy;
        g.phase = PHASE_LOTS;
        g.expectedLots = lotsHash;
        emit SettlementBegun(slot, retailTicks, buyBackTicks, policy);
    }

    /// @notice Aborts a paged settlement still in its lot pages (no money has moved): the slot is as before it began
    /// (it takes lots again, and can be settled anew). For a lot page sent with other lots than recorded, which
    /// the first party page would refuse (LotsMismatch) with no other way out. The amounts its lot pages kept are
    /// left behind, apart from any later attempt's.
    function abortSettlement(uint64 slot) external onlyOperator {
        Paging memory g = _openPaging(slot);
        if (g.phase != PHASE_LOTS) revert WrongPhase(slot, g.phase);
        _slotLots[slot] = g.expectedLots;
        delete _paging[slot];
        ++_aborted[slot];
        emit SettlementAborted(slot, g.lotsDone);
    }

    /// @notice The next lots of the slot, in recording order from index `firstLot` (the lots settled so far), with
    /// their flows (as settleSlot's). Each lot party's amounts wait in storage for its party page.
    function settleLotsPage(uint64 slot, uint32 firstLot, bytes calldata lots, bytes calldata flows) external onlyOperator {
        Paging memory g = _openPaging(slot);
        if (g.phase != PHASE_LOTS) revert WrongPhase(slot, g.phase);
        if (firstLot != g.lotsDone) revert PageOutOfOrder(slot, g.lotsDone, firstLot);
        uint256 n = lots.length / LOT_BYTES;
        if (n == 0 || lots.length != n * LOT_BYTES) revert MalformedSettlement("lots");
        if (flows.length != n * FLOW_BYTES) revert MalformedSettlement("flows");
        Prices memory c = Prices(slot, g.retail, g.buyBack, g.policy, 0);
        Party[] memory p = new Party[](2 * n);
        uint256 count;
        bytes32 lotsHash = g.lotsHash;
        for (uint256 i; i < n; ++i) {
            uint256 at;
            uint256 f;
            assembly {
                at := add(lots.offset, mul(i, 75))
                f := calldataload(add(flows.offset, mul(i, 10)))
            }
            lotsHash = _chainLot(lotsHash, at);
            count = _settlePagedLot(c, at, f, p, count);
        }
        g.openParties += _keepLotParties(slot, p, count);
        g.lotsDone += uint32(n);
        g.lotsHash = lotsHash;
        g.gridNet += c.gridNet;
        _paging[slot] = g;
        emit SettlementPage(slot, PHASE_LOTS, firstLot, uint32(n));
    }

    /// @notice The next parties of the slot from index `firstParty` (the parties settled so far), as settleSlot's
    /// (50 bytes each, strictly ascending participant across all pages). The first party page checks that every
    /// recorded lot was given; each party's net moves at once through the clearing (a debtor without the balance
    /// refuses the page; a creditor may be paid before later pages' debtors pay in: see `clearing`).
    /// The `last` page checks that every lot party was settled, builds the readings root, moves the grid
    /// operator's net and settles the slot.
    function settlePartiesPage(uint64 slot, uint32 firstParty, bytes calldata parties, bool last) external onlyOperator {
        Paging memory g = _openPaging(slot);
        if (g.phase == PHASE_LOTS) {
            if (g.lotsHash != g.expectedLots) revert LotsMismatch(slot);
            g.phase = PHASE_PARTIES;
        }
        if (firstParty != g.partiesDone) revert PageOutOfOrder(slot, g.partiesDone, firstParty);
        uint256 n = parties.length / PARTY_BYTES;
        if (parties.length != n * PARTY_BYTES) revert MalformedSettlement("parties");
        if (n == 0 && !last) revert MalformedSettlement("empty page");
        Prices memory c = Prices(slot, g.retail, g.buyBack, g.policy, 0);
        bytes32[32] memory frontier = _loadFrontier(slot, g.readings);
        uint32 before = g.readings;
        for (uint256 i; i < n; ++i) _settlePagedParty(c, g, frontier, parties, i);
        g.gridNet += c.gridNet;
        emit SettlementPage(slot, PHASE_PARTIES, firstParty, uint32(n));
        if (last) {
            _finishPaged(slot, g, frontier, before);
        } else {
            _storeFrontier(slot, before, g.readings, frontier);
            _paging[slot] = g;
        }
    }

    /// @dev Party i of a party page (g.partiesDone: its place in the settlement): its lots' amounts, its grid lines, its
    /// money, its reading's leaf.
    function _settlePagedParty(
        Prices memory c,
        Paging memory g,
        bytes32[32] memory frontier,
        bytes calldata parties,
        uint256 i
    ) private {
        (address meter, address participant, uint256 importWh, uint256 exportWh) = _readParty(parties, i, g.partiesDone, g.lastParticipant, gridOperator);
        g.lastParticipant = participant;
        ++g.partiesDone;
        Party memory q = Party(participant, importWh, exportWh, 0, 0, 0);
        if (_takeLotParty(c.slot, q)) --g.openParties;
        _settlePartyGrid(c, q);
        emit PartySettled(c.slot, participant, meter, importWh, exportWh, q.net);
        _moveThroughClearing(participant, q.net);
        if (meter != address(0)) {
            g.readings = _pushLeaf(frontier, g.readings, keccak256(abi.encode(meter, participant, c.slot, uint64(importWh), uint64(exportWh))));
        }
    }

    /// @dev A paged settlement's net for one account: paid into the clearing (negative) or out of it (positive).
    function _moveThroughClearing(address account, int256 net) private {
        if (net == 0) return;
        if (net < 0) _payIn(account, uint256(-net));
        else _payOut(account, uint256(net));
        clearing -= net;
    }

    function _openPaging(uint64 slot) private view returns (Paging memory g) {
        bytes32 h = _slotLots[slot];
        if (h == SETTLED) revert SlotAlreadySettled(slot);
        if (h != SETTLING) revert SettlementNotBegun(slot);
        g = _paging[slot];
    }

    /// @dev A lot of a lot page: its parties are indexed in transient storage as they come (the page's own list).
    function _settlePagedLot(Prices memory c, uint256 at, uint256 f, Party[] memory p, uint256 count) private returns (uint256) {
        uint256 w0;
        uint256 w1;
        assembly {
            w0 := calldataload(at)
            w1 := calldataload(add(at, 32))
        }
        uint256 s;
        uint256 b;
        (s, count) = _pageParty(p, count, address(uint160(w0)));
        (b, count) = _pageParty(p, count, address(uint160(w1 >> 96)));
        _settleLotOf(c, w0, w1, f, p[s], p[b]);
        return count;
    }

    function _pageParty(Party[] memory p, uint256 count, address who) private returns (uint256 index, uint256) {
        uint256 key = uint160(who);
        assembly {
            index := tload(key)
        }
        if (index != 0) return (index - 1, count);
        assembly {
            tstore(key, add(count, 1))
        }
        p[count].participant = who;
        return (count, count + 1);
    }

    /// @dev Adds a lot page's amounts per party to what earlier pages gave; returns how many parties are new.
    function _keepLotParties(uint64 slot, Party[] memory p, uint256 count) private returns (uint32 opened) {
        mapping(address => uint256) storage kept = _lotParty[_keptKey(slot)];
        for (uint256 i; i < count; ++i) {
            Party memory q = p[i];
            _forgetParty(q.participant);
            uint256 w = kept[q.participant];
            if (w == 0) ++opened;
            else _addKept(q, w);
            if (q.importUsed >= 1 << 63 || q.exportUsed > type(uint64).max || q.net > type(int128).max || q.net < type(int128).min) {
                revert MalformedSettlement("amounts out of range");
            }
            kept[q.participant] = (1 << 255) | (q.importUsed << 192) | (q.exportUsed << 128) | uint256(uint128(int128(q.net)));
        }
    }

    /// @dev Takes what the lot pages kept for the party (if any) into it and deletes it; true when there was some.
    function _takeLotParty(uint64 slot, Party memory q) private returns (bool) {
        mapping(address => uint256) storage kept = _lotParty[_keptKey(slot)];
        uint256 w = kept[q.participant];
        if (w == 0) return false;
        delete kept[q.participant];
        _addKept(q, w);
        return true;
    }

    /// @dev Adds a kept word (see _lotParty) to the party's allocations and net.
    function _addKept(Party memory q, uint256 w) private pure {
        q.importUsed += (w >> 192) & ((1 << 63) - 1);
        q.exportUsed += (w >> 128) & type(uint64).max;
        q.net += int128(uint128(w));
    }

    function _keptKey(uint64 slot) private view returns (uint256) {
        return (uint256(slot) << 32) | _aborted[slot];
    }

    function _loadFrontier(uint64 slot, uint32 count) private view returns (bytes32[32] memory frontier) {
        for (uint256 h; h < 32 && (count >> h) != 0; ++h) {
            if ((count >> h) & 1 != 0) frontier[h] = _frontier[slot][h];
        }
    }

    /// @dev Stores the levels set in `count` that changed, and deletes those set in `before` that merged upward.
    function _storeFrontier(uint64 slot, uint32 before, uint32 count, bytes32[32] memory frontier) private {
        for (uint256 h; h < 32 && ((count | before) >> h) != 0; ++h) {
            if ((count >> h) & 1 != 0) {
                if (_frontier[slot][h] != frontier[h]) _frontier[slot][h] = frontier[h];
            } else if ((before >> h) & 1 != 0) {
                delete _frontier[slot][h];
            }
        }
    }

    /// @dev Adds a leaf: it merges with the full subtrees of the set low bits of `count`, as the levels would.
    function _pushLeaf(bytes32[32] memory frontier, uint32 count, bytes32 leaf) private pure returns (uint32) {
        bytes32 node = leaf;
        uint256 h;
        while ((count >> h) & 1 != 0) {
            node = _hashPair(frontier[h], node);
            ++h;
        }
        frontier[h] = node;
        return count + 1;
    }

    /// @dev The root of `count` leaves from their frontier: the full subtrees folded from the smallest up; 0 without a leaf.
    function _frontierRoot(bytes32[32] memory frontier, uint32 count) private pure returns (bytes32 root) {
        bool any;
        for (uint256 h; h < 32 && (count >> h) != 0; ++h) {
            if ((count >> h) & 1 == 0) continue;
            root = any ? _hashPair(frontier[h], root) : frontier[h];
            any = true;
        }
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a <= b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @dev `stored`: the leaf count when the last page began, whose levels earlier pages stored.
    function _finishPaged(uint64 slot, Paging memory g, bytes32[32] memory frontier, uint32 stored) private {
        if (g.openParties != 0) revert PartiesMissing(slot, g.openParties);
        if (g.lotsDone == 0 && g.partiesDone == 0) revert MalformedSettlement("nothing to settle");
        bytes32 root = _frontierRoot(frontier, g.readings);
        _storeFrontier(slot, stored, 0, frontier); // deletes the levels earlier pages stored
        _moveThroughClearing(gridOperator, g.gridNet);
        _slotLots[slot] = SETTLED;
        readingsRoot[slot] = root;
        delete _paging[slot];
        emit SlotSettled(slot, root, g.lotsDone, g.partiesDone, g.retail, g.buyBack, g.policy, g.gridNet);
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
