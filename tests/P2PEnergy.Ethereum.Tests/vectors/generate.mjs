// Generates ethers-vectors.json: reference values computed by ethers v6 that the C# tests
// (EthersVectorTests) must reproduce byte for byte.
//
// Produced with ethers 6.17.0 on Node 20.
// Regenerate (ethers stays outside the repository):
//   mkdir -p /tmp/ethvec && cd /tmp/ethvec && npm init -y && npm install ethers@6
//   NODE_PATH=/tmp/ethvec/node_modules node \
//     tests/P2PEnergy.Ethereum.Tests/vectors/generate.mjs > tests/P2PEnergy.Ethereum.Tests/vectors/ethers-vectors.json
// (or copy this file into /tmp/ethvec and run it there). The output is deterministic.
//
// JSON conventions: integers are decimal strings, byte data is 0x-hex, addresses are checksummed.
// ABI and EIP-712 values are given in the shape of their type: arrays/tuples as JSON arrays,
// structs as objects.

import { createRequire } from "node:module";
import path from "node:path";

// NODE_PATH is honoured by require() but not by ESM import, so resolve ethers through require.
const require = createRequire(path.join(process.cwd(), "noop.js"));
const ethers = require("ethers");
const {
  AbiCoder, Interface, SigningKey, Transaction, TypedDataEncoder, Wallet,
  FunctionFragment, EventFragment, hashMessage, id, keccak256, toUtf8Bytes, getBytes, hexlify,
} = ethers;

const coder = AbiCoder.defaultAbiCoder();

// Fixed keys: the EIP-155 example key, the smallest valid key, Hardhat's well-known account #0
// and two keys derived from labels.
const privateKeys = [
  "0x4646464646464646464646464646464646464646464646464646464646464646",
  "0x0000000000000000000000000000000000000000000000000000000000000001",
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  id("p2penergy test key 1"),
  id("p2penergy test key 2"),
];

const hashesToSign = [
  id(""),
  id("p2penergy lot 42"),
  "0x0000000000000000000000000000000000000000000000000000000000000001",
  "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  keccak256("0xdeadbeef"),
];

const keys = privateKeys.map((pk) => {
  const sk = new SigningKey(pk);
  return {
    privateKey: pk,
    publicKey: "0x" + sk.publicKey.slice(4), // drop the 0x04 prefix: 64 bytes x || y
    address: new Wallet(pk).address,
    signatures: hashesToSign.map((h) => {
      const sig = sk.sign(h);
      return { hash: h, r: sig.r, s: sig.s, v: sig.v, yParity: sig.yParity, serialized: sig.serialized };
    }),
  };
});

const legacyFields = [
  { chainId: 1n, nonce: 9, gasPrice: 20000000000n, gasLimit: 21000n, to: "0x3535353535353535353535353535353535353535", value: 1000000000000000000n, data: "0x" },
  { chainId: 31337n, nonce: 0, gasPrice: 1n, gasLimit: 100000n, to: "0x5FbDB2315678afecb367f032d93F642f64180aa3", value: 0n, data: "0xa9059cbb000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003e8" },
  { chainId: 1337n, nonce: 1234567, gasPrice: 123456789012345678901234567890n, gasLimit: 3000000n, to: null, value: 0n, data: "0x6080604052348015600f57600080fd5b50" },
  { chainId: 4294967295n, nonce: 255, gasPrice: 0n, gasLimit: 21000n, to: "0x0000000000000000000000000000000000000000", value: 115792089237316195423570985008687907853269984665640564039457584007913129639935n, data: "0x00" },
];

const eip1559Fields = [
  { chainId: 1n, nonce: 0, maxPriorityFeePerGas: 1500000000n, maxFeePerGas: 30000000000n, gasLimit: 21000n, to: "0x3535353535353535353535353535353535353535", value: 1000000000000000000n, data: "0x", accessList: [] },
  { chainId: 31337n, nonce: 7, maxPriorityFeePerGas: 0n, maxFeePerGas: 875000000n, gasLimit: 250000n, to: "0x5FbDB2315678afecb367f032d93F642f64180aa3", value: 0n, data: "0x12345678", accessList: [] },
  { chainId: 31337n, nonce: 8, maxPriorityFeePerGas: 2n, maxFeePerGas: 3n, gasLimit: 500000n, to: null, value: 5n, data: "0x6001600155", accessList: [] },
  {
    chainId: 5n, nonce: 300, maxPriorityFeePerGas: 1000000000n, maxFeePerGas: 100000000000n, gasLimit: 80000n,
    to: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", value: 12345n, data: "0xabcdef",
    accessList: [
      { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", storageKeys: [
        "0x0000000000000000000000000000000000000000000000000000000000000000",
        "0x00000000000000000000000000000000000000000000000000000000000000ff"] },
      { address: "0x3535353535353535353535353535353535353535", storageKeys: [] },
    ],
  },
];

async function signAll(fieldsList, type) {
  const out = [];
  for (const [i, fields] of fieldsList.entries()) {
    const wallet = new Wallet(privateKeys[i % privateKeys.length]);
    const tx = Transaction.from({ type, ...fields });
    const raw = await wallet.signTransaction(tx);
    const signed = Transaction.from(raw);
    out.push({
      privateKey: wallet.privateKey,
      from: wallet.address,
      fields,
      unsignedSerialized: tx.unsignedSerialized,
      signingHash: tx.unsignedHash,
      raw,
      hash: signed.hash,
    });
  }
  return out;
}

const bigMax = (1n << 256n) - 1n;
const abiCases = [
  { types: ["uint256"], values: [0n] },
  { types: ["uint256"], values: [bigMax] },
  { types: ["int256"], values: [-(1n << 255n)] },
  { types: ["int256"], values: [-1n] },
  { types: ["int8", "int8", "int8"], values: [-128n, 127n, -1n] },
  { types: ["uint8", "int16", "uint24", "int40", "uint64", "int128", "uint160"], values: [255n, -300n, 16777215n, -549755813888n, 18446744073709551615n, -170141183460469231731687303715884105728n, 1n << 159n] },
  { types: ["address", "bool", "bool", "bytes32", "bytes1", "bytes10"], values: ["0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", true, false, id("x"), "0xab", "0x0102030405060708090a"] },
  { types: ["bytes"], values: ["0x"] },
  { types: ["bytes"], values: ["0x" + "11".repeat(32)] },
  { types: ["bytes"], values: ["0x" + "22".repeat(33)] },
  { types: ["string"], values: [""] },
  { types: ["string", "string"], values: ["hello", "Grüße ⚡ 日本 — energy"] },
  { types: ["string"], values: ["Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod"] },
  { types: ["uint256[]"], values: [[]] },
  { types: ["uint256[]", "int8[]"], values: [[1n, 2n, 3n], [-1n, 0n, 1n]] },
  { types: ["string[]"], values: [["a", "", "a somewhat longer string that spans more than one word"]] },
  { types: ["uint32[2][3]"], values: [[[1n, 2n], [3n, 4n], [5n, 6n]]] },
  { types: ["string[2]", "uint8"], values: [["left", "right"], 7n] },
  { types: ["bytes[]", "bool[2][]"], values: [["0x", "0x01", "0x" + "ff".repeat(40)], [[true, false], [false, true]]] },
  { types: ["(uint256,uint256)", "address"], values: [[1n, 2n], "0x0000000000000000000000000000000000000001"] },
  { types: ["(uint64,address,bytes32)[]"], values: [[[1n, "0x5FbDB2315678afecb367f032d93F642f64180aa3", id("lot 1")], [18446744073709551615n, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", id("lot 2")]]] },
  { types: ["(uint256,string,(bool,bytes)[],int8[3])", "uint256"], values: [[42n, "nested", [[true, "0x"], [false, "0xc0ffee"]], [-1n, 2n, -3n]], 99n] },
  { types: ["((string,uint16)[2],bytes32)[]"], values: [[[[["x", 1n], ["yy", 2n]], id("a")]]] },
  // Solidity ABI spec examples.
  { types: ["uint32", "bool"], values: [69n, true] },
  { types: ["bytes", "bool", "uint256[]"], values: [hexlify(toUtf8Bytes("dave")), true, [1n, 2n, 3n]] },
  { types: ["uint256", "uint32[]", "bytes10", "bytes"], values: [0x123n, [0x456n, 0x789n], hexlify(toUtf8Bytes("1234567890")), hexlify(toUtf8Bytes("Hello, world!"))] },
  { types: ["uint256[][]", "string[]"], values: [[[1n, 2n], [3n]], ["one", "two", "three"]] },
];

const abi = abiCases.map((c) => ({ types: c.types, values: c.values, encoded: coder.encode(c.types, c.values) }));

// EIP-712: the EIP's Mail example, a variant with arrays and bytes, and a domain with salt.
const mailTypes = {
  Person: [{ name: "name", type: "string" }, { name: "wallet", type: "address" }],
  Mail: [{ name: "from", type: "Person" }, { name: "to", type: "Person" }, { name: "contents", type: "string" }],
};
const typedCases = [
  {
    domain: { name: "Ether Mail", version: "1", chainId: 1n, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
    primaryType: "Mail",
    types: mailTypes,
    message: {
      from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
      to: { name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
      contents: "Hello, Bob!",
    },
  },
  {
    domain: { name: "Ether Mail", version: "1", chainId: 31337n, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
    primaryType: "Mail",
    types: {
      Person: [{ name: "name", type: "string" }, { name: "wallets", type: "address[]" }],
      Mail: [{ name: "from", type: "Person" }, { name: "to", type: "Person[]" }, { name: "contents", type: "string" }, { name: "attachment", type: "bytes" }],
    },
    message: {
      from: { name: "Cow", wallets: ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", "0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"] },
      to: [
        { name: "Bob", wallets: ["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"] },
        { name: "Alice", wallets: [] },
      ],
      contents: "Hello, Bob and Alice!",
      attachment: "0x0102",
    },
  },
  {
    domain: { name: "P2PEnergy", chainId: 31337n, salt: id("community salt") },
    primaryType: "LotClaim",
    types: {
      Meter: [{ name: "id", type: "bytes32" }, { name: "owner", type: "address" }],
      Slot: [{ name: "start", type: "uint64" }, { name: "minutes", type: "uint16" }],
      LotClaim: [
        { name: "seller", type: "address" }, { name: "slot", type: "Slot" }, { name: "energyWh", type: "uint256" },
        { name: "priceDelta", type: "int64" }, { name: "green", type: "bool" }, { name: "meters", type: "Meter[2]" },
        { name: "tags", type: "string[]" }, { name: "readings", type: "uint32[]" },
      ],
    },
    message: {
      seller: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      slot: { start: 1735689600n, minutes: 15n },
      energyWh: 12500n,
      priceDelta: -42n,
      green: true,
      meters: [{ id: id("m1"), owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }, { id: id("m2"), owner: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" }],
      tags: ["solar", "rooftop"],
      readings: [0n, 4294967295n],
    },
  },
  {
    domain: { version: "2", verifyingContract: "0x0000000000000000000000000000000000000001" },
    primaryType: "Empty",
    types: { Empty: [] },
    message: {},
  },
];

const eip712 = typedCases.map((c) => {
  const encoder = TypedDataEncoder.from(c.types);
  return {
    ...c,
    encodeType: encoder.encodeType(c.primaryType),
    typeHash: id(encoder.encodeType(c.primaryType)),
    domainSeparator: TypedDataEncoder.hashDomain(c.domain),
    structHash: encoder.hashStruct(c.primaryType, c.message),
    hash: TypedDataEncoder.hash(c.domain, c.types, c.message),
  };
});

const messageWallet = new Wallet(privateKeys[2]);
const personalStrings = ["", "hello", "Hello World", "Grüße ⚡", "a".repeat(100)];
const personal = [];
for (const text of personalStrings) {
  personal.push({ utf8: text, hash: hashMessage(text), signature: await messageWallet.signMessage(text) });
}
for (const hex of ["0x00", "0xdeadbeef", keccak256("0x01")]) {
  personal.push({ bytes: hex, hash: hashMessage(getBytes(hex)), signature: await messageWallet.signMessage(getBytes(hex)) });
}

const functionSignatures = [
  "transfer(address,uint256)", "baz(uint32,bool)", "bar(bytes3[2])", "sam(bytes,bool,uint256[])",
  "f(uint256,uint32[],bytes10,bytes)", "g(uint256[][],string[])", "recordLots((uint64,address,bytes32)[])",
  "settle(uint256,(address,int128,bytes)[],bool)", "balanceOf(address)",
];
const selectors = functionSignatures.map((s) => ({ signature: s, selector: FunctionFragment.from("function " + s).selector, id: id(s) }));

const eventSignatures = [
  "Transfer(address,address,uint256)", "Approval(address,address,uint256)",
  "LotRecorded(uint64,address,bytes32)", "Settled(uint256,(address,int128)[])",
];
const topics = eventSignatures.map((s) => ({ signature: s, topic: EventFragment.from("event " + s).topicHash }));

// Logs encoded by ethers' Interface, to be decoded by AbiEvent.
const eventCases = [
  { declaration: "Transfer(address indexed from, address indexed to, uint256 value)", values: ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1000n] },
  { declaration: "LotRecorded(uint64 indexed slot, address indexed seller, bytes32 lotHash, int256 delta, string note)", values: [96n, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", id("lot"), -5n, "ok"] },
  { declaration: "Noted(string indexed tag, bytes indexed blob, bool flag, uint256[] nums)", values: ["solar", "0xc0ffee", true, [1n, 2n]] },
];
const events = eventCases.map((c) => {
  const iface = new Interface(["event " + c.declaration]);
  const fragment = iface.fragments[0];
  const log = iface.encodeEventLog(fragment, c.values);
  return { declaration: c.declaration, values: c.values, topics: log.topics, data: log.data };
});

const output = {
  generator: `ethers ${ethers.version}`,
  keys,
  legacyTransactions: await signAll(legacyFields, 0),
  eip1559Transactions: await signAll(eip1559Fields, 2),
  abi,
  eip712,
  personal,
  selectors,
  topics,
  events,
};

process.stdout.write(JSON.stringify(output, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
