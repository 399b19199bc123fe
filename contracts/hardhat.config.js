// Hardhat 2, compiled offline: Hardhat's own compiler download fails without internet, so the
// compile subtask is pointed at the npm `solc` package (solcjs) installed with the project.
// (../shared/CHAIN-NOTES.md: override TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD.)
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");

const solc = require("solc");
// "0.8.28+commit.7893614a.Emscripten.clang" -> version "0.8.28", long version "0.8.28+commit.7893614a"
const solcLongVersion = solc.version().replace(/\.Emscripten\.clang$/, "");
const solcVersion = solcLongVersion.split("+")[0];

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== solcVersion) {
    throw new Error(`only solc ${solcVersion} is installed (npm package solc); the config asks for ${args.solcVersion}`);
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: solcVersion,
    longVersion: solcLongVersion,
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: solcVersion,
    settings: {
      optimizer: { enabled: true, runs: 10000 },
      evmVersion: "cancun",
    },
  },
  networks: {
    hardhat: {
      chainId: 31337,
    },
  },
  mocha: {
    timeout: 120000,
  },
};
