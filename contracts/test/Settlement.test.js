const { expect } = require("chai");
const { ethers } = require("hardhat");
const { packLots } = require("./lots");
const {
  POLICY_SELLER_COMPENSATES_SHORTFALL,
  POLICY_SHORTFALL_NET_OF_WHEELING,
  POLICY_BUYER_COMPENSATES_UNDERCONSUMPTION,
  packFlows,
  packParties,
  sortParties,
  readingsRoot,
  allocateFifo,
  expectedNets,
  deploy,
} = require("./settlement");

const SLOT = 989100;
const RETAIL = 2620; // 26.20 JPY/kWh, the grid price of seed 004
const BUY_BACK = 700; // 7.00 JPY/kWh

const addr = (n) => ethers.getAddress(ethers.toBeHex(n, 20));
const S = addr(0x5001n); // the seller
const B1 = addr(0x5002n); // a buyer with a meter
const B2 = addr(0x5003n); // a buyer whose meter did not report
const METER_S = addr(0xa001n);
const METER_B1 = addr(0xa002n);

function lot(lotId, seller, buyer, energyWh, priceTicks, wheelingFeeTicks, slot = SLOT) {
  return { lotId, slot, seller, buyer, energyWh, priceTicks, wheelingFeeTicks, flags: 0, sellOrderId: 2 * lotId, buyOrderId: 2 * lotId + 1 };
}

// The slot of the hand computation below.
const LOTS = [lot(1, S, B1, 1000, 2000, 1000), lot(2, S, B1, 500, 2100, 0), lot(3, S, B2, 400, 1900, 0)];
const PARTIES = sortParties([
  { meter: METER_S, participant: S, importWh: 0, exportWh: 1200 },
  { meter: METER_B1, participant: B1, importWh: 1800, exportWh: 0 },
  { meter: ethers.ZeroAddress, participant: B2, importWh: 0, exportWh: 0 },
]);
// FIFO (docs/settlement-rules.md): S's 1200 Wh export -> lot 1 1000, lot 2 200, lot 3 0;
// B1's 1800 Wh import -> lot 1 1000, lot 2 500, 300 Wh unallocated; B2 consumed nothing.
const FLOWS = [
  { deliveredWh: 1000, consumedWh: 1000 },
  { deliveredWh: 200, consumedWh: 500 },
  { deliveredWh: 0, consumedWh: 0 },
];
// Hand computation, policy 1 (seller compensates retail - price), money in 1e-5 JPY:
// lot 1: settled 1000: energy 1000 x 2000 = 2,000,000 B1 -> S; wheeling 1000 x 1000 = 1,000,000 B1 -> grid.
// lot 2: settled 200, shortfall 300: energy 200 x 2100 = 420,000 B1 -> S; shortfall 300 x 2620 = 786,000 B1 -> grid;
//        compensation 300 x (2620 - 2100) = 156,000 S -> B1.
// B1's unallocated import: 300 x 2620 = 786,000 B1 -> grid.
const NET_S = 2_000_000n + 420_000n - 156_000n; // 2,264,000
const NET_B1 = -(2_000_000n + 1_000_000n + 420_000n + 786_000n) + 156_000n - 786_000n; // -4,836,000
const NET_GRID = 1_000_000n + 786_000n + 786_000n; // 2,572,000

async function recorded(lots = LOTS, deposit = 10_000_000n) {
  const ctx = await deploy();
  await ctx.ledger.connect(ctx.operator).recordLots(packLots(lots));
  if (deposit > 0n) await ctx.ledger.connect(ctx.operator).deposit(B1, deposit);
  return ctx;
}

function settle(ledger, operator, { slot = SLOT, lots = LOTS, flows = FLOWS, parties = PARTIES, retail = RETAIL, buyBack = BUY_BACK, policy = 1 } = {}) {
  return ledger.connect(operator).settleSlot(slot, packLots(lots), packFlows(flows), packParties(parties), retail, buyBack, policy);
}

describe("EnergyLedger settlement", function () {
  describe("a hand-computed slot", function () {
    it("settles every lot, stores the readings root and moves the netted balances", async function () {
      const { ledger, operator, grid } = await recorded();
      const supplyBefore = await ledger.totalSupply();
      const tx = settle(ledger, operator);
      await expect(tx).to.emit(ledger, "LotSettled").withArgs(SLOT, 1, 1000, 1000, 1000);
      await expect(tx).to.emit(ledger, "LotSettled").withArgs(SLOT, 2, 200, 500, 200);
      await expect(tx).to.emit(ledger, "LotSettled").withArgs(SLOT, 3, 0, 0, 0);
      await expect(tx).to.emit(ledger, "PartySettled").withArgs(SLOT, S, METER_S, 0, 1200, NET_S);
      await expect(tx).to.emit(ledger, "PartySettled").withArgs(SLOT, B1, METER_B1, 1800, 0, NET_B1);
      await expect(tx).to.emit(ledger, "PartySettled").withArgs(SLOT, B2, ethers.ZeroAddress, 0, 0, 0);
      const root = readingsRoot(SLOT, PARTIES);
      await expect(tx).to.emit(ledger, "SlotSettled").withArgs(SLOT, root, 3, 3, RETAIL, BUY_BACK, 1, NET_GRID);
      await expect(tx).to.emit(ledger, "Transfer").withArgs(B1, await ledger.getAddress(), -NET_B1);
      await expect(tx).to.emit(ledger, "Transfer").withArgs(await ledger.getAddress(), S, NET_S);

      expect(await ledger.balanceOf(S)).to.equal(NET_S);
      expect(await ledger.balanceOf(B1)).to.equal(10_000_000n + NET_B1);
      expect(await ledger.balanceOf(grid.address)).to.equal(NET_GRID);
      expect(await ledger.balanceOf(B2)).to.equal(0n);
      expect(await ledger.totalSupply()).to.equal(supplyBefore); // settlement moves money, it creates none
      expect(await ledger.readingsRoot(SLOT)).to.equal(root);
      expect(await ledger.isSettled(SLOT)).to.equal(true);
      // The hand computation and the JavaScript reference agree.
      const ref = expectedNets(LOTS, FLOWS, PARTIES, RETAIL, BUY_BACK, 1);
      expect(ref.net.get(S.toLowerCase())).to.equal(NET_S);
      expect(ref.net.get(B1.toLowerCase())).to.equal(NET_B1);
      expect(ref.grid).to.equal(NET_GRID);
    });

    it("refuses a second settlement of the slot and any new lot for it", async function () {
      const { ledger, operator } = await recorded();
      await settle(ledger, operator);
      await expect(settle(ledger, operator)).to.be.revertedWithCustomError(ledger, "SlotAlreadySettled").withArgs(SLOT);
      await expect(ledger.connect(operator).recordLots(packLots([lot(9, S, B1, 100, 2000, 0)])))
        .to.be.revertedWithCustomError(ledger, "SlotAlreadySettled").withArgs(SLOT);
      expect(await ledger.isRecorded(9)).to.equal(false);
    });
  });

  describe("refusals (each leaves every balance and the slot untouched)", function () {
    async function expectUntouched(ledger) {
      expect(await ledger.isSettled(SLOT)).to.equal(false);
      expect(await ledger.readingsRoot(SLOT)).to.equal(ethers.ZeroHash);
      expect(await ledger.balanceOf(B1)).to.equal(10_000_000n);
      expect(await ledger.balanceOf(S)).to.equal(0n);
    }

    it("refuses delivered or consumed Wh above the contracted Wh", async function () {
      const { ledger, operator } = await recorded();
      const above = [{ deliveredWh: 1100, consumedWh: 1000 }, FLOWS[1], FLOWS[2]];
      await expect(settle(ledger, operator, { flows: above }))
        .to.be.revertedWithCustomError(ledger, "SettledAboveContracted").withArgs(1, 1100, 1000);
      const consumedAbove = [FLOWS[0], { deliveredWh: 200, consumedWh: 501 }, FLOWS[2]];
      await expect(settle(ledger, operator, { flows: consumedAbove }))
        .to.be.revertedWithCustomError(ledger, "SettledAboveContracted").withArgs(2, 501, 500);
      await expectUntouched(ledger);
    });

    it("refuses lots that are not exactly the slot's recorded lots", async function () {
      const { ledger, operator } = await recorded();
      // A lot left out.
      await expect(settle(ledger, operator, { lots: LOTS.slice(0, 2), flows: FLOWS.slice(0, 2) }))
        .to.be.revertedWithCustomError(ledger, "LotsMismatch").withArgs(SLOT);
      // A recorded lot at another price: the operator cannot settle at another price.
      const cheaper = [LOTS[0], { ...LOTS[1], priceTicks: 1 }, LOTS[2]];
      await expect(settle(ledger, operator, { lots: cheaper })).to.be.revertedWithCustomError(ledger, "LotsMismatch").withArgs(SLOT);
      // The same lots in another order.
      await expect(settle(ledger, operator, { lots: [LOTS[1], LOTS[0], LOTS[2]], flows: [FLOWS[1], FLOWS[0], FLOWS[2]] }))
        .to.be.revertedWithCustomError(ledger, "LotsMismatch").withArgs(SLOT);
      // A lot of another slot.
      const other = [LOTS[0], LOTS[1], { ...LOTS[2], slot: SLOT + 1 }];
      await expect(settle(ledger, operator, { lots: other }))
        .to.be.revertedWithCustomError(ledger, "LotOfAnotherSlot").withArgs(3, SLOT + 1);
      await expectUntouched(ledger);
    });

    it("refuses allocations above a meter's reading, and a lot party without a reading", async function () {
      const { ledger, operator } = await recorded();
      const lowExport = PARTIES.map((p) => (p.participant === S ? { ...p, exportWh: 1100 } : p));
      await expect(settle(ledger, operator, { parties: lowExport }))
        .to.be.revertedWithCustomError(ledger, "AboveMetered").withArgs(S, 1200, 1100);
      const lowImport = PARTIES.map((p) => (p.participant === B1 ? { ...p, importWh: 1499 } : p));
      await expect(settle(ledger, operator, { parties: lowImport }))
        .to.be.revertedWithCustomError(ledger, "AboveMetered").withArgs(B1, 1500, 1499);
      const withoutB2 = PARTIES.filter((p) => p.participant !== B2);
      await expect(settle(ledger, operator, { parties: withoutB2 }))
        .to.be.revertedWithCustomError(ledger, "MissingParty").withArgs(3, B2);
      await expectUntouched(ledger);
    });

    it("refuses parties out of order, twice, or with energy but no meter", async function () {
      const { ledger, operator } = await recorded();
      await expect(settle(ledger, operator, { parties: [...PARTIES].reverse() }))
        .to.be.revertedWithCustomError(ledger, "InvalidParty").withArgs(1, "order");
      const twice = sortParties([...PARTIES, { meter: addr(0xa003n), participant: S, importWh: 0, exportWh: 0 }]);
      await expect(settle(ledger, operator, { parties: twice })).to.be.revertedWithCustomError(ledger, "DuplicateParty").withArgs(S);
      const noMeter = PARTIES.map((p) => (p.participant === B2 ? { ...p, importWh: 5 } : p));
      await expect(settle(ledger, operator, { parties: noMeter }))
        .to.be.revertedWithCustomError(ledger, "InvalidParty").withArgs(2, "energy without a meter"); // B2 is the third participant
      await expectUntouched(ledger);
    });

    it("refuses a debtor without the balance, a stranger, a bad policy and a missing grid operator", async function () {
      const { ledger, operator, stranger, admin } = await recorded(LOTS, 0n);
      await expect(settle(ledger, operator)).to.be.revertedWithCustomError(ledger, "InsufficientBalance").withArgs(B1, 0, -NET_B1);
      await expect(settle(ledger, stranger)).to.be.revertedWithCustomError(ledger, "NotOperator").withArgs(stranger.address);
      await ledger.connect(operator).deposit(B1, 10_000_000n);
      await expect(settle(ledger, operator, { policy: 8 })).to.be.revertedWithCustomError(ledger, "InvalidPolicy").withArgs(8);
      await expectUntouched(ledger);

      const Ledger = await ethers.getContractFactory("EnergyLedger");
      const bare = await Ledger.deploy(admin.address, operator.address);
      await bare.connect(operator).recordLots(packLots(LOTS));
      await expect(settle(bare, operator)).to.be.revertedWithCustomError(bare, "GridOperatorNotSet");
    });
  });

  describe("policies against the JavaScript reference", function () {
    it("gives the reference's nets for random slots under every policy", async function () {
      const { ledger, operator, grid } = await deploy();
      const people = Array.from({ length: 6 }, (_, i) => addr(0x6001n + BigInt(i)));
      let seed = 12345;
      const rnd = (n) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      let nextLot = 100;
      for (let round = 0; round < 16; round++) {
        const slot = 990000 + round;
        const policy = round % 8;
        const lots = [];
        for (let k = 0; k < 1 + rnd(8); k++) {
          const seller = people[rnd(6)];
          let buyer = people[rnd(6)];
          if (buyer === seller) buyer = people[(people.indexOf(seller) + 1) % 6];
          lots.push(lot(nextLot++, seller, buyer, 100 * (1 + rnd(20)), 500 + rnd(3000), rnd(2) * 1000, slot));
        }
        const parties = sortParties(
          people.map((p, i) => ({ meter: addr(0xb001n + BigInt(i)), participant: p, importWh: rnd(3000), exportWh: rnd(3000) }))
        );
        const flows = allocateFifo(lots, parties);
        const retail = 1500 + rnd(2000);
        const buyBack = rnd(1500);
        await ledger.connect(operator).recordLots(packLots(lots));
        for (const p of people) await ledger.connect(operator).deposit(p, 100_000_000n);
        const before = await Promise.all(people.map((p) => ledger.balanceOf(p)));
        const gridBefore = await ledger.balanceOf(grid.address);
        await ledger.connect(operator).deposit(grid.address, 100_000_000n);
        await ledger.connect(operator).settleSlot(slot, packLots(lots), packFlows(flows), packParties(parties), retail, buyBack, policy);
        const ref = expectedNets(lots, flows, parties, retail, buyBack, policy);
        for (let i = 0; i < people.length; i++) {
          expect(await ledger.balanceOf(people[i])).to.equal(before[i] + ref.net.get(people[i].toLowerCase()), `round ${round}`);
        }
        expect(await ledger.balanceOf(grid.address)).to.equal(gridBefore + 100_000_000n + ref.grid);
        expect(await ledger.readingsRoot(slot)).to.equal(readingsRoot(slot, parties));
      }
    });
  });

  describe("settlement token", function () {
    it("lets only the operator deposit, and holders transfer, approve and withdraw", async function () {
      const { ledger, operator, stranger, admin } = await deploy();
      await expect(ledger.connect(stranger).deposit(stranger.address, 5)).to.be.revertedWithCustomError(ledger, "NotOperator");
      await expect(ledger.connect(operator).deposit(stranger.address, 1000))
        .to.emit(ledger, "Transfer").withArgs(ethers.ZeroAddress, stranger.address, 1000);
      await ledger.connect(stranger).transfer(admin.address, 300);
      await expect(ledger.connect(stranger).transfer(admin.address, 701))
        .to.be.revertedWithCustomError(ledger, "InsufficientBalance").withArgs(stranger.address, 700, 701);
      await ledger.connect(stranger).approve(operator.address, 200);
      await expect(ledger.connect(operator).transferFrom(stranger.address, admin.address, 201))
        .to.be.revertedWithCustomError(ledger, "InsufficientAllowance").withArgs(operator.address, 200, 201);
      await ledger.connect(operator).transferFrom(stranger.address, admin.address, 200);
      expect(await ledger.allowance(stranger.address, operator.address)).to.equal(0n);
      await ledger.connect(admin).withdraw(100);
      expect(await ledger.balanceOf(stranger.address)).to.equal(500n);
      expect(await ledger.balanceOf(admin.address)).to.equal(400n);
      expect(await ledger.totalSupply()).to.equal(900n);
      expect(await ledger.decimals()).to.equal(5n);
    });
  });

  describe("gas", function () {
    it("prints gas per settled lot and per slot", async function () {
      const { ledger, operator, grid } = await deploy();
      const rows = [];
      let nextLot = 1;
      for (const [size, partyCount] of [[1, 2], [10, 10], [100, 30], [500, 60]]) {
        const slot = 991000 + size;
        const people = Array.from({ length: partyCount }, (_, i) => addr(0x7001n + BigInt(i)));
        const lots = Array.from({ length: size }, (_, k) => {
          const seller = people[k % partyCount];
          const buyer = people[(k + 1) % partyCount];
          return lot(nextLot++, seller, buyer, 1000, 2000, k % 2 ? 1000 : 0, slot);
        });
        const parties = sortParties(people.map((p, i) => ({ meter: addr(0xc001n + BigInt(i)), participant: p, importWh: 900 * size, exportWh: 800 * size })));
        await ledger.connect(operator).recordLots(packLots(lots));
        for (const p of people) await ledger.connect(operator).deposit(p, 10n ** 12n);
        await ledger.connect(operator).deposit(grid.address, 10n ** 12n);
        const receipt = await (
          await ledger.connect(operator).settleSlot(slot, packLots(lots), packFlows(allocateFifo(lots, parties)), packParties(parties), RETAIL, BUY_BACK, 1)
        ).wait();
        rows.push({ size, partyCount, gas: Number(receipt.gasUsed) });
      }
      console.log("      settleSlot   lots  parties   gas/slot   gas/settled lot");
      for (const r of rows) {
        console.log(`      ${String(r.size).padStart(15)} ${String(r.partyCount).padStart(8)} ${String(r.gas).padStart(10)} ${(r.gas / r.size).toFixed(0).padStart(17)}`);
      }
      expect(rows[3].gas).to.be.below(16_777_216); // a slot of 500 lots and 60 parties fits one transaction
    });
  });
});
