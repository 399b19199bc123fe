// The chain image's health check: healthy when the node answers JSON-RPC eth_chainId with the expected chain id.
//   node chain-healthcheck.js [URL] [CHAIN_ID]     (defaults: http://127.0.0.1:8545, 31337 = Hardhat's devnet)
// Node 20's own fetch: no curl in the image.
const url = process.argv[2] ?? "http://127.0.0.1:8545";
const want = BigInt(process.argv[3] ?? "31337");

fetch(url, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  signal: AbortSignal.timeout(3000),
})
  .then((response) => response.json())
  .then((answer) => {
    if (typeof answer.result !== "string") throw new Error(`no result: ${JSON.stringify(answer.error ?? answer)}`);
    const chainId = BigInt(answer.result);
    if (chainId !== want) throw new Error(`chain id ${chainId}, expected ${want}`);
    console.log(`${url}: chain ${chainId}`);
    process.exit(0);
  })
  .catch((error) => {
    console.log(`${url}: ${error.message}`);
    process.exit(1);
  });
