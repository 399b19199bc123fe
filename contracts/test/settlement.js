// Packing for EnergyLedger.settleSlot and an independent JavaScript computation of the settlement rules
// (docs/settlement-rules.md), so the contract's amounts are checked against a second implementation.
const { ethers } = require("hardhat");

const POLICY_SELLER_COMPENSATES_SHORTFALL = 1;
const POLICY_SHORTFALL_NET_OF_WHEELING = 2;
const POLICY_BUYER_COMPENSATES_UNDERCONSUMPTION = 4;

function be(value, bytes) {
  return ethers.toBeHex(BigInt(value), bytes).slice(2);
}

// flows: [{ deliveredWh, consumedWh }] in the order of the lots.
function packFlows(flows) {
  return "0x" + flows.map((f) => be(f.deliveredWh, 5) + be(f.consumedWh, 5)).join("");
}

// parties: [{ meter, participant, importWh, exportWh }]; sorted here by participant as the contract wants.
function sortParties(parties) {
  const key = (p) => BigInt(p.participant);
  return [...parties].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function packParties(parties) {
  return (
    "0x" +
    parties
      .map((p) => p.meter.slice(2).toLowerCase() + p.participant.slice(2).toLowerCase() + be(p.importWh, 5) + be(p.exportWh, 5))
      .join("")
  );
}

// The readings tree of MeterReadingMerkleTree: abi.encode leaves in ascending participant order, sorted pairs,
// built level by level with an odd last node promoted.
function readingsRoot(slot, parties) {
  const coder = ethers.AbiCoder.defaultAbiCoder();
  let level = sortParties(parties)
    .filter((p) => BigInt(p.meter) !== 0n)
    .map((p) =>
      ethers.keccak256(
        coder.encode(["address", "address", "uint64", "uint64", "uint64"], [p.meter, p.participant, slot, p.importWh, p.exportWh])
      )
    );
  if (level.length === 0) return ethers.ZeroHash;
  while (level.length > 1) {
    const up = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        up.push(level[i]);
      } else {
        const [a, b] = BigInt(level[i]) <= BigInt(level[i + 1]) ? [level[i], level[i + 1]] : [level[i + 1], level[i]];
        up.push(ethers.keccak256(ethers.concat([a, b])));
      }
    }
    level = up;
  }
  return level[0];
}

// The FIFO allocation of docs/settlement-rules.md: each seller's export to its sell lots, each buyer's import to
// its buy lots, in ascending lot id, each lot taking at most its Wh.
function allocateFifo(lots, parties) {
  const exportLeft = new Map(parties.map((p) => [p.participant.toLowerCase(), BigInt(p.exportWh)]));
  const importLeft = new Map(parties.map((p) => [p.participant.toLowerCase(), BigInt(p.importWh)]));
  const byId = [...lots].sort((a, b) => a.lotId - b.lotId);
  const flows = new Map();
  for (const lot of byId) {
    const s = lot.seller.toLowerCase();
    const b = lot.buyer.toLowerCase();
    const wh = BigInt(lot.energyWh);
    const delivered = exportLeft.get(s) < wh ? exportLeft.get(s) : wh;
    const consumed = importLeft.get(b) < wh ? importLeft.get(b) : wh;
    exportLeft.set(s, exportLeft.get(s) - delivered);
    importLeft.set(b, importLeft.get(b) - consumed);
    flows.set(lot.lotId, { deliveredWh: delivered, consumedWh: consumed });
  }
  return lots.map((lot) => flows.get(lot.lotId));
}

// Nets per participant (lower-case address -> BigInt) and the grid operator's net, from the rules' tables.
function expectedNets(lots, flows, parties, retail, buyBack, policy) {
  const net = new Map(parties.map((p) => [p.participant.toLowerCase(), 0n]));
  const used = new Map(parties.map((p) => [p.participant.toLowerCase(), { imp: 0n, exp: 0n }]));
  const R = BigInt(retail);
  const B = BigInt(buyBack);
  let grid = 0n;
  const add = (who, v) => net.set(who, net.get(who) + v);
  lots.forEach((lot, i) => {
    const s = lot.seller.toLowerCase();
    const b = lot.buyer.toLowerCase();
    const d = BigInt(flows[i].deliveredWh);
    const c = BigInt(flows[i].consumedWh);
    const settled = d < c ? d : c;
    const shortfall = c - settled;
    const over = d - settled;
    const price = BigInt(lot.priceTicks);
    const fee = BigInt(lot.wheelingFeeTicks);
    used.get(s).exp += d;
    used.get(b).imp += c;
    add(b, -settled * price); // energy
    add(s, settled * price);
    add(b, -settled * fee); // wheeling
    grid += settled * fee;
    add(b, -shortfall * R); // shortfall from the grid at retail
    grid += shortfall * R;
    add(s, over * B); // over-delivery to the grid at buy-back
    grid -= over * B;
    if (policy & POLICY_SELLER_COMPENSATES_SHORTFALL) {
      const floor = price + (policy & POLICY_SHORTFALL_NET_OF_WHEELING ? fee : 0n);
      const rate = R > floor ? R - floor : 0n;
      add(s, -shortfall * rate);
      add(b, shortfall * rate);
    }
    if (policy & POLICY_BUYER_COMPENSATES_UNDERCONSUMPTION) {
      const rate = price > B ? price - B : 0n;
      add(b, -over * rate);
      add(s, over * rate);
    }
  });
  for (const p of parties) {
    const k = p.participant.toLowerCase();
    const unallocatedImport = BigInt(p.importWh) - used.get(k).imp;
    const unallocatedExport = BigInt(p.exportWh) - used.get(k).exp;
    add(k, -unallocatedImport * R + unallocatedExport * B);
    grid += unallocatedImport * R - unallocatedExport * B;
  }
  return { net, grid };
}

// A fresh ledger: signer 0 its admin, 1 its operator, 2 the grid operator (set), 3 a stranger.
async function deploy() {
  const [admin, operator, grid, stranger] = await ethers.getSigners();
  const Ledger = await ethers.getContractFactory("EnergyLedger");
  const ledger = await Ledger.deploy(admin.address, operator.address);
  await ledger.waitForDeployment();
  await ledger.connect(admin).setGridOperator(grid.address);
  return { ledger, admin, operator, grid, stranger };
}

module.exports = {
  deploy,
  POLICY_SELLER_COMPENSATES_SHORTFALL,
  POLICY_SHORTFALL_NET_OF_WHEELING,
  POLICY_BUYER_COMPENSATES_UNDERCONSUMPTION,
  packFlows,
  packParties,
  sortParties,
  readingsRoot,
  allocateFifo,
  expectedNets,
};
