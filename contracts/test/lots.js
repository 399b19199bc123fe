// Packing of lots for EnergyLedger.recordLots: 75 bytes a lot, big-endian (see the contract's header).
const { ethers } = require("hardhat");

const FLAG_GREEN = 1;
const FLAG_RENEWABLE = 2;

function be(value, bytes) {
  return ethers.toBeHex(BigInt(value), bytes).slice(2);
}

function packLot(lot) {
  return (
    be(lot.lotId, 8) +
    be(lot.slot, 4) +
    lot.seller.slice(2).toLowerCase() +
    lot.buyer.slice(2).toLowerCase() +
    be(lot.energyWh, 5) +
    be(lot.priceTicks, 4) +
    be(lot.wheelingFeeTicks, 3) +
    be(lot.flags, 1) +
    be(lot.sellOrderId, 5) +
    be(lot.buyOrderId, 5)
  );
}

function packLots(lots) {
  return "0x" + lots.map(packLot).join("");
}

// A deterministic lot for id `id`: addresses and numbers vary with the id so that every byte matters.
function makeLot(id, slot = 989046) {
  const seller = ethers.getAddress(ethers.toBeHex(0x1000n + BigInt(id % 97), 20));
  const buyer = ethers.getAddress(ethers.toBeHex(0x2000n + BigInt(id % 89), 20));
  return {
    lotId: id,
    slot,
    seller,
    buyer,
    energyWh: 100 * (1 + (id % 50)),
    priceTicks: 1000 + (id % 1600),
    wheelingFeeTicks: id % 2 === 0 ? 0 : 1000,
    flags: id % 3,
    sellOrderId: 2 * id + 1,
    buyOrderId: 2 * id + 2,
  };
}

module.exports = { packLot, packLots, makeLot, FLAG_GREEN, FLAG_RENEWABLE };
