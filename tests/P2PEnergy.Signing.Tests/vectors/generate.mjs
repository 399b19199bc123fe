// Generates signing-vectors.json: EIP-712 digests and signatures of the market's messages computed by
// ethers v6 (TypedDataEncoder.hash, Wallet.signTypedData), which P2PEnergy.Signing must reproduce byte
// for byte (SigningVectorTests; meter readings: MeterReadingVectorTests).
//
// Produced with ethers 6.17.0 (contracts/node_modules) on Node 20. Regenerate from the contracts folder:
//   cd contracts && node ../tests/P2PEnergy.Signing.Tests/vectors/generate.mjs \
//     > ../tests/P2PEnergy.Signing.Tests/vectors/signing-vectors.json
// The output is deterministic (RFC 6979 nonces).
//
// JSON conventions: integers are decimal strings, byte data is 0x-hex.

import { createRequire } from "node:module";
import path from "node:path";

// Resolve ethers from the working directory (contracts/node_modules), not from this file's folder.
const require = createRequire(path.join(process.cwd(), "noop.js"));
const { TypedDataEncoder, Wallet, id } = require("ethers");

// Side, product and source are the p2penergy.v1 proto enum numbers.
const types = {
  Order: [
    { name: "participant", type: "address" },
    { name: "clientOrderId", type: "uint64" },
    { name: "side", type: "uint8" },
    { name: "slot", type: "uint64" },
    { name: "energyWh", type: "uint64" },
    { name: "limitPriceTicks", type: "uint64" },
    { name: "product", type: "uint8" },
    { name: "source", type: "uint8" },
  ],
  CancelOrder: [
    { name: "participant", type: "address" },
    { name: "orderId", type: "uint64" },
  ],
  ReduceOrder: [
    { name: "participant", type: "address" },
    { name: "orderId", type: "uint64" },
    { name: "reduceByWh", type: "uint64" },
  ],
};

const domains = [
  { name: "P2PEnergy", version: "1", chainId: 31337n, verifyingContract: "0x0000000000000000000000000000000000000000" },
  // Hardhat's first deployment address from account #0.
  { name: "P2PEnergy", version: "1", chainId: 31337n, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
  { name: "P2PEnergy", version: "1", chainId: 1n, verifyingContract: "0x00000000000000000000000000000000DeaDBeef" },
];

const keys = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", // Hardhat account #0
  id("p2penergy-demo:office"),
];

const U64_MAX = (1n << 64n) - 1n;

function orders(participant) {
  return [
    // A renewable sell: 1.2 kWh at 15.00 JPY/kWh.
    { participant, clientOrderId: 1n, side: 2, slot: 989569n, energyWh: 1200n, limitPriceTicks: 1500n, product: 0, source: 2 },
    // A green buy.
    { participant, clientOrderId: 2n, side: 1, slot: 989570n, energyWh: 900n, limitPriceTicks: 2000n, product: 2, source: 0 },
    // Largest values of every member.
    { participant, clientOrderId: U64_MAX, side: 255, slot: U64_MAX, energyWh: U64_MAX, limitPriceTicks: U64_MAX, product: 255, source: 255 },
  ];
}

const s = (v) => (typeof v === "bigint" ? v.toString() : v);
const plain = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, s(v)]));

const vectors = [];
for (const domain of domains) {
  for (const pk of keys) {
    const wallet = new Wallet(pk);
    const participant = wallet.address;
    const messages = [
      ...orders(participant).map((m) => ["Order", m]),
      ["CancelOrder", { participant, orderId: 7n }],
      ["CancelOrder", { participant, orderId: U64_MAX }],
      ["ReduceOrder", { participant, orderId: 7n, reduceByWh: 300n }],
    ];
    for (const [primaryType, message] of messages) {
      const only = { [primaryType]: types[primaryType] };
      vectors.push({
        domain: { chainId: s(domain.chainId), verifyingContract: domain.verifyingContract },
        privateKey: pk,
        primaryType,
        message: plain(message),
        structHash: TypedDataEncoder.from(only).hash(message),
        digest: TypedDataEncoder.hash(domain, only, message),
        signature: await wallet.signTypedData(domain, only, message),
      });
    }
  }
}

const domainSeparators = domains.map((d) => ({
  chainId: s(d.chainId),
  verifyingContract: d.verifyingContract,
  separator: TypedDataEncoder.hashDomain(d),
}));

// Meter readings (MeterReadingVectorTests): signed by the meter's own key, in the same domains. Kept under
// their own key so that the order vectors above are unchanged.
const meterReadingTypes = {
  MeterReading: [
    { name: "meter", type: "address" },
    { name: "participant", type: "address" },
    { name: "slot", type: "uint64" },
    { name: "importWh", type: "uint64" },
    { name: "exportWh", type: "uint64" },
  ],
};
const meterKeys = [id("p2penergy-demo:meter:office"), id("p2penergy-demo:meter:prosumer")];
const meterReadingVectors = [];
for (const domain of domains) {
  for (const pk of meterKeys) {
    const meter = new Wallet(pk);
    const participant = new Wallet(keys[0]).address;
    const readings = [
      // A prosumer's half hour: 0.35 kWh in, 1.2 kWh out.
      { meter: meter.address, participant, slot: 989569n, importWh: 350n, exportWh: 1200n },
      // Nothing flowed.
      { meter: meter.address, participant, slot: 989570n, importWh: 0n, exportWh: 0n },
      // Largest values of every member.
      { meter: meter.address, participant, slot: U64_MAX, importWh: U64_MAX, exportWh: U64_MAX },
    ];
    for (const message of readings) {
      meterReadingVectors.push({
        domain: { chainId: s(domain.chainId), verifyingContract: domain.verifyingContract },
        privateKey: pk,
        primaryType: "MeterReading",
        message: plain(message),
        structHash: TypedDataEncoder.from(meterReadingTypes).hash(message),
        digest: TypedDataEncoder.hash(domain, meterReadingTypes, message),
        signature: await meter.signTypedData(domain, meterReadingTypes, message),
      });
    }
  }
}

console.log(JSON.stringify({ ethers: require("ethers").version, domainSeparators, vectors, meterReadingVectors }, null, 2));
