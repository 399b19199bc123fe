const { expect } = require("chai");
const { ethers } = require("hardhat");
const { packLots, makeLot } = require("./lots");

async function deploy() {
  const [admin, operator, stranger] = await ethers.getSigners();
  const Ledger = await ethers.getContractFactory("EnergyLedger");
  const ledger = await Ledger.deploy(admin.address, operator.address);
  await ledger.waitForDeployment();
  return { ledger, admin, operator, stranger };
}

function range(from, count) {
  return Array.from({ length: count }, (_, i) => from + i);
}

describe("EnergyLedger", function () {
  describe("access control", function () {
    it("lets only an operator record lots", async function () {
      const { ledger, stranger, admin } = await deploy();
      const batch = packLots([makeLot(1)]);
      await expect(ledger.connect(stranger).recordLots(batch))
        .to.be.revertedWithCustomError(ledger, "NotOperator").withArgs(stranger.address);
      // The admin is not an operator either unless made one.
      await expect(ledger.connect(admin).recordLots(batch))
        .to.be.revertedWithCustomError(ledger, "NotOperator").withArgs(admin.address);
      expect(await ledger.isRecorded(1)).to.equal(false);
    });

    it("lets only the admin change operators and the admin", async function () {
      const { ledger, admin, operator, stranger } = await deploy();
      await expect(ledger.connect(operator).setOperator(stranger.address, true))
        .to.be.revertedWithCustomError(ledger, "NotAdmin").withArgs(operator.address);
      await expect(ledger.connect(admin).setOperator(stranger.address, true))
        .to.emit(ledger, "OperatorSet").withArgs(stranger.address, true);
      await ledger.connect(stranger).recordLots(packLots([makeLot(7)]));
      expect(await ledger.isRecorded(7)).to.equal(true);

      await ledger.connect(admin).setOperator(operator.address, false);
      await expect(ledger.connect(operator).recordLots(packLots([makeLot(8)])))
        .to.be.revertedWithCustomError(ledger, "NotOperator");

      await expect(ledger.connect(stranger).transferAdmin(stranger.address))
        .to.be.revertedWithCustomError(ledger, "NotAdmin");
      await expect(ledger.connect(admin).transferAdmin(stranger.address))
        .to.emit(ledger, "AdminTransferred").withArgs(admin.address, stranger.address);
      expect(await ledger.admin()).to.equal(stranger.address);
      await expect(ledger.connect(admin).setOperator(admin.address, true))
        .to.be.revertedWithCustomError(ledger, "NotAdmin");
    });

    it("refuses a zero admin or operator", async function () {
      const [admin] = await ethers.getSigners();
      const Ledger = await ethers.getContractFactory("EnergyLedger");
      await expect(Ledger.deploy(ethers.ZeroAddress, admin.address)).to.be.revertedWithCustomError(Ledger, "ZeroAddress");
      await expect(Ledger.deploy(admin.address, ethers.ZeroAddress)).to.be.revertedWithCustomError(Ledger, "ZeroAddress");
    });
  });

  describe("duplicates", function () {
    it("refuses a batch holding a lot id recorded before, and records nothing of it", async function () {
      const { ledger, operator } = await deploy();
      await ledger.connect(operator).recordLots(packLots(range(1, 10).map((id) => makeLot(id))));
      expect(await ledger.lotCount()).to.equal(10n);
      // 11..15 are new, 5 is not: the whole batch is refused.
      const retry = packLots([11, 12, 5, 13].map((id) => makeLot(id)));
      await expect(ledger.connect(operator).recordLots(retry))
        .to.be.revertedWithCustomError(ledger, "LotAlreadyRecorded").withArgs(5);
      expect(await ledger.isRecorded(11)).to.equal(false);
      expect(await ledger.lotCount()).to.equal(10n);
    });

    it("refuses the same lot id twice in one batch, also across bitmap words", async function () {
      const { ledger, operator } = await deploy();
      await expect(ledger.connect(operator).recordLots(packLots([makeLot(300), makeLot(301), makeLot(300)])))
        .to.be.revertedWithCustomError(ledger, "LotAlreadyRecorded").withArgs(300);
      // 255 and 256 sit in different words; going back to the first word must still see 255.
      await expect(ledger.connect(operator).recordLots(packLots([makeLot(255), makeLot(256), makeLot(255)])))
        .to.be.revertedWithCustomError(ledger, "LotAlreadyRecorded").withArgs(255);
      await ledger.connect(operator).recordLots(packLots([makeLot(255), makeLot(256), makeLot(511), makeLot(512), makeLot(2)]));
      for (const id of [2, 255, 256, 511, 512]) expect(await ledger.isRecorded(id)).to.equal(true);
      for (const id of [1, 3, 254, 257, 510, 513]) expect(await ledger.isRecorded(id)).to.equal(false);
    });
  });

  describe("batch bounds and lot checks", function () {
    it("refuses an empty, a ragged and an oversized batch", async function () {
      const { ledger, operator } = await deploy();
      await expect(ledger.connect(operator).recordLots("0x")).to.be.revertedWithCustomError(ledger, "EmptyBatch");
      const one = packLots([makeLot(1)]);
      await expect(ledger.connect(operator).recordLots(one + "00"))
        .to.be.revertedWithCustomError(ledger, "MalformedBatch").withArgs(76);
      await expect(ledger.connect(operator).recordLots(one.slice(0, -2)))
        .to.be.revertedWithCustomError(ledger, "EmptyBatch");
      const max = Number(await ledger.MAX_BATCH());
      const tooMany = packLots(range(1, max + 1).map((id) => makeLot(id)));
      await expect(ledger.connect(operator).recordLots(tooMany))
        .to.be.revertedWithCustomError(ledger, "BatchTooLarge").withArgs(max + 1, max);
    });

    it("refuses lot id 0, a self-trade and a lot without energy", async function () {
      const { ledger, operator } = await deploy();
      await expect(ledger.connect(operator).recordLots(packLots([makeLot(0)])))
        .to.be.revertedWithCustomError(ledger, "InvalidLot").withArgs(0, "lot id 0");
      const self = makeLot(4);
      self.buyer = self.seller;
      await expect(ledger.connect(operator).recordLots(packLots([self])))
        .to.be.revertedWithCustomError(ledger, "InvalidLot").withArgs(4, "seller is buyer");
      const empty = { ...makeLot(5), energyWh: 0 };
      await expect(ledger.connect(operator).recordLots(packLots([empty])))
        .to.be.revertedWithCustomError(ledger, "InvalidLot").withArgs(5, "no energy");
    });
  });

  describe("events", function () {
    it("emits one LotRecorded per lot with every field an auditor needs", async function () {
      const { ledger, operator } = await deploy();
      const lots = [
        makeLot(1, 989046),
        { ...makeLot(2, 989047), energyWh: 1099511627775, priceTicks: 4294967295, wheelingFeeTicks: 16777215, flags: 3, sellOrderId: 1099511627775, buyOrderId: 1 },
        makeLot(3, 4294967295),
      ];
      const receipt = await (await ledger.connect(operator).recordLots(packLots(lots))).wait();
      const events = receipt.logs.map((log) => ledger.interface.parseLog(log)).filter((e) => e.name === "LotRecorded");
      expect(events.length).to.equal(lots.length);
      for (let i = 0; i < lots.length; i++) {
        const e = events[i];
        const want = lots[i];
        expect(e.args.slot).to.equal(BigInt(want.slot));
        expect(e.args.seller).to.equal(want.seller);
        expect(e.args.buyer).to.equal(want.buyer);
        const d = await ledger.decodeLot(e.args.lot);
        expect(d.lotId).to.equal(BigInt(want.lotId));
        expect(d.energyWh).to.equal(BigInt(want.energyWh));
        expect(d.priceTicks).to.equal(BigInt(want.priceTicks));
        expect(d.wheelingFeeTicks).to.equal(BigInt(want.wheelingFeeTicks));
        expect(d.flags).to.equal(BigInt(want.flags));
        expect(d.sellOrderId).to.equal(BigInt(want.sellOrderId));
        expect(d.buyOrderId).to.equal(BigInt(want.buyOrderId));
      }
      // Indexed topics let an auditor filter by slot, seller or buyer.
      const bySeller = await ledger.queryFilter(ledger.filters.LotRecorded(null, lots[1].seller));
      expect(bySeller.map((e) => e.args.seller)).to.deep.equal([lots[1].seller]);
      expect(await ledger.lotCount()).to.equal(3n);
    });

    it("commits a slot's order root once", async function () {
      const { ledger, operator, stranger } = await deploy();
      const root = ethers.keccak256(ethers.toUtf8Bytes("orders of slot 989046"));
      await expect(ledger.connect(stranger).commitOrderRoot(989046, root, 12)).to.be.revertedWithCustomError(ledger, "NotOperator");
      await expect(ledger.connect(operator).commitOrderRoot(989046, ethers.ZeroHash, 12)).to.be.revertedWithCustomError(ledger, "InvalidOrderRoot");
      const tx = ledger.connect(operator).commitOrderRoot(989046, root, 12);
      await expect(tx).to.emit(ledger, "OrderRootCommitted").withArgs(989046, root, 12);
      const receipt = await (await tx).wait();
      console.log(`      commitOrderRoot: ${receipt.gasUsed} gas for a slot (once per slot, whatever its number of lots)`);
      expect(await ledger.orderRoot(989046)).to.equal(root);
      await expect(ledger.connect(operator).commitOrderRoot(989046, root, 12))
        .to.be.revertedWithCustomError(ledger, "OrderRootAlreadyCommitted").withArgs(989046);
    });
  });

  describe("gas per lot", function () {
    it("prints gas per lot for batches of 1, 10, 100 and 500, beside a naive storage design", async function () {
      const { ledger, operator } = await deploy();
      const Naive = await ethers.getContractFactory("NaiveLotStore");
      const naive = await Naive.deploy(operator.address);
      let next = 1000;
      const rows = [];
      for (const size of [1, 10, 100, 500]) {
        // Warm-up batch first, so that the bitmap word already exists, as it does in a running market.
        const warm = range(next, size).map((id) => makeLot(id));
        next += size;
        await (await ledger.connect(operator).recordLots(packLots(warm))).wait();
        const lots = range(next, size).map((id) => makeLot(id));
        next += size;
        const ours = await (await ledger.connect(operator).recordLots(packLots(lots))).wait();
        // The naive design cannot take 500 lots: that would pass the 16,777,216 gas a transaction may use.
        const theirs = size <= 100 ? await (await naive.connect(operator).recordLots(lots)).wait() : null;
        rows.push({ size, ours: Number(ours.gasUsed) / size, naive: theirs ? Number(theirs.gasUsed) / size : null });
      }
      console.log("      lots/batch   EnergyLedger gas/lot   naive storage gas/lot   ratio");
      for (const r of rows) {
        const naive = r.naive === null ? "over the tx gas cap" : r.naive.toFixed(0);
        const ratio = r.naive === null ? "-" : `${(r.naive / r.ours).toFixed(1)}x`;
        console.log(`      ${String(r.size).padStart(10)}   ${r.ours.toFixed(0).padStart(20)}   ${naive.padStart(21)}   ${ratio}`);
      }
      const at100 = rows.find((r) => r.size === 100);
      expect(at100.ours).to.be.below(at100.naive);
    });
  });
});
