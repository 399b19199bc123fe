// The paged settlement of EnergyLedger (beginSettlement, settleLotsPage, settlePartiesPage): the same rules and
// amounts as settleSlot, over as many transactions as a big slot needs (docs/settlement-rules.md, "Paged").
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { packLots } = require("./lots");
const { packFlows, packParties, sortParties, readingsRoot, allocateFifo, expectedNets, deploy } = require("./settlement");

const RETAIL = 2620; // 26.20 JPY/kWh, the grid price of seed 004
const BUY_BACK = 700;
const CAP = 16_777_216; // gas a transaction may use (EIP-7825)

const addr = (n) => ethers.getAddress(ethers.toBeHex(n, 20));

function lot(lotId, slot, seller, buyer, energyWh, priceTicks, wheelingFeeTicks) {
  return { lotId, slot, seller, buyer, energyWh, priceTicks, wheelingFeeTicks, flags: 0, sellOrderId: 2 * lotId, buyOrderId: 2 * lotId + 1 };
}

function random(seed) {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
}

// A random slot: `people` participants, some without a meter (meter 0, 0/0 and only lots whose flows are 0),
// some metered without a lot; lots between random pairs.
function randomSlot(slot, firstLotId, peopleCount, lotCount, rnd) {
  const people = Array.from({ length: peopleCount }, (_, i) => addr(0x9000_0000n + BigInt(slot % 1000) * 0x1_0000n + BigInt(rnd(4096) * 64 + i)));
  const unique = [...new Set(people)];
  const lots = [];
  for (let k = 0; k < lotCount; k++) {
    const seller = unique[rnd(unique.length)];
    let buyer = unique[rnd(unique.length)];
    if (buyer === seller) buyer = unique[(unique.indexOf(seller) + 1) % unique.length];
    lots.push(lot(firstLotId + k, slot, seller, buyer, 100 * (1 + rnd(20)), 500 + rnd(3000), rnd(2) * 1000));
  }
  const parties = sortParties(
    unique.map((p, i) =>
      i % 7 === 3
        ? { meter: ethers.ZeroAddress, participant: p, importWh: 0, exportWh: 0 }
        : { meter: addr(0xd000_0000n + BigInt(slot % 1000) * 0x1_0000n + BigInt(i)), participant: p, importWh: rnd(9000), exportWh: rnd(9000) }
    )
  );
  return { slot, people: unique, lots, parties, flows: allocateFifo(lots, parties) };
}

// Cuts 0..n into pages of the given sizes (repeated), e.g. [1, 3, 2].
function pages(n, sizes) {
  const out = [];
  for (let at = 0, i = 0; at < n; i++) {
    const size = Math.min(sizes[i % sizes.length], n - at);
    out.push([at, size]);
    at += size;
  }
  return out;
}

// Sends the paged settlement; returns the receipts.
async function settlePaged(ledger, operator, s, { lotPages = [s.lots.length || 1], partyPages = [s.parties.length], policy = 1, retail = RETAIL, buyBack = BUY_BACK } = {}) {
  const receipts = [];
  const send = async (tx) => receipts.push(await (await tx).wait());
  await send(ledger.connect(operator).beginSettlement(s.slot, retail, buyBack, policy));
  for (const [first, count] of pages(s.lots.length, lotPages)) {
    await send(ledger.connect(operator).settleLotsPage(s.slot, first, packLots(s.lots.slice(first, first + count)), packFlows(s.flows.slice(first, first + count))));
  }
  const cuts = pages(s.parties.length, partyPages);
  for (let i = 0; i < cuts.length; i++) {
    const [first, count] = cuts[i];
    await send(ledger.connect(operator).settlePartiesPage(s.slot, first, packParties(s.parties.slice(first, first + count)), i === cuts.length - 1));
  }
  return receipts;
}

function eventsOf(ledger, receipts, name) {
  return receipts.flatMap((r) => r.logs.map((l) => ledger.interface.parseLog(l)).filter((e) => e && e.name === name));
}

describe("EnergyLedger paged settlement", function () {
  it("gives settleSlot's nets, events, balances and readings root for any page split", async function () {
    const { ledger, operator, grid } = await deploy();
    const rnd = random(777);
    let nextLot = 1;
    const splits = [
      { lotPages: [1], partyPages: [1] },
      { lotPages: [3, 1, 7], partyPages: [2, 5] },
      { lotPages: [1000], partyPages: [1000] },
      { lotPages: [4], partyPages: [3] },
    ];
    for (let round = 0; round < 8; round++) {
      const policy = round % 8;
      const split = splits[round % splits.length];
      // Twin slots with the same content (other lot ids): one settled in one transaction, one paged.
      const one = randomSlot(995000 + 2 * round, nextLot, 6 + rnd(20), 5 + rnd(30), random(round + 1));
      nextLot += one.lots.length;
      const paged = { ...one, slot: one.slot + 1, lots: one.lots.map((l, k) => ({ ...l, slot: one.slot + 1, lotId: nextLot + k })) };
      nextLot += one.lots.length;
      await ledger.connect(operator).recordLots(packLots(one.lots));
      await ledger.connect(operator).recordLots(packLots(paged.lots));
      for (const p of one.people) await ledger.connect(operator).deposit(p, 1_000_000_000n);
      await ledger.connect(operator).deposit(grid.address, 1_000_000_000n);

      const before = await Promise.all(one.people.map((p) => ledger.balanceOf(p)));
      const gridBefore = await ledger.balanceOf(grid.address);
      const oneReceipt = await (
        await ledger.connect(operator).settleSlot(one.slot, packLots(one.lots), packFlows(one.flows), packParties(one.parties), RETAIL, BUY_BACK, policy)
      ).wait();
      const middle = await Promise.all(one.people.map((p) => ledger.balanceOf(p)));
      const gridMiddle = await ledger.balanceOf(grid.address);
      const supply = await ledger.totalSupply();
      const receipts = await settlePaged(ledger, operator, paged, { ...split, policy });

      // Nets against the JavaScript reference, for both.
      const ref = expectedNets(one.lots, one.flows, one.parties, RETAIL, BUY_BACK, policy);
      for (let i = 0; i < one.people.length; i++) {
        const net = ref.net.get(one.people[i].toLowerCase());
        expect(middle[i] - before[i]).to.equal(net, `round ${round}: one transaction`);
        expect((await ledger.balanceOf(one.people[i])) - middle[i]).to.equal(net, `round ${round}: paged`);
      }
      expect(gridMiddle - gridBefore).to.equal(ref.grid);
      expect((await ledger.balanceOf(grid.address)) - gridMiddle).to.equal(ref.grid);
      expect(await ledger.totalSupply()).to.equal(supply);

      // The same events, field by field (lot ids differ by the twin's offset).
      const strip = (e, lotIdShift = 0) => e.args.map((v, i) => (i === 0 ? 0n : i === 1 && e.name === "LotSettled" ? v - BigInt(lotIdShift) : v));
      const shift = paged.lots.length ? paged.lots[0].lotId - one.lots[0].lotId : 0;
      for (const name of ["LotSettled", "PartySettled", "SlotSettled"]) {
        const a = eventsOf(ledger, [oneReceipt], name).map((e) => strip(e));
        const b = eventsOf(ledger, receipts, name).map((e) => strip(e, shift));
        if (name === "SlotSettled") {
          // The readings root covers the slot number: compare the rest, and each root with the reference.
          expect(b[0].slice(2)).to.deep.equal(a[0].slice(2), `round ${round}: ${name}`);
        } else {
          expect(b).to.deep.equal(a, `round ${round}: ${name}`);
        }
      }
      expect(await ledger.readingsRoot(one.slot)).to.equal(readingsRoot(one.slot, one.parties));
      expect(await ledger.readingsRoot(paged.slot)).to.equal(readingsRoot(paged.slot, paged.parties));
      expect(await ledger.isSettled(paged.slot)).to.equal(true);
      expect(await ledger.settlementProgress(paged.slot)).to.deep.equal([3n, 0n, 0n]);
      // One SettlementPage per page, with contiguous ranges.
      const pageEvents = eventsOf(ledger, receipts, "SettlementPage").map((e) => [Number(e.args.phase), Number(e.args.first), Number(e.args.count)]);
      const expected = [
        ...pages(paged.lots.length, split.lotPages).map(([f, c]) => [1, f, c]),
        ...pages(paged.parties.length, split.partyPages).map(([f, c]) => [2, f, c]),
      ];
      expect(pageEvents).to.deep.equal(expected);
    }
  });

  it("builds the readings root of any number of readings over any pages", async function () {
    const { ledger, operator } = await deploy();
    let slot = 996000;
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33]) {
      for (const size of [1, 2, 3, 5]) {
        slot++;
        const parties = sortParties(
          Array.from({ length: n }, (_, i) => ({ meter: addr(0xe0000n + BigInt(i)), participant: addr(0xf0000n + BigInt(i * 7919 % 65536)), importWh: 0, exportWh: 0 }))
        );
        await settlePaged(ledger, operator, { slot, people: [], lots: [], flows: [], parties }, { partyPages: [size] });
        expect(await ledger.readingsRoot(slot)).to.equal(readingsRoot(slot, parties), `${n} readings in pages of ${size}`);
      }
    }
  });

  describe("refusals (each leaves the progress and every balance untouched)", function () {
    async function begun(lots = 6, people = 8) {
      const ctx = await deploy();
      const s = randomSlot(997001, 1, people, lots, random(5));
      await ctx.ledger.connect(ctx.operator).recordLots(packLots(s.lots));
      for (const p of s.people) await ctx.ledger.connect(ctx.operator).deposit(p, 1_000_000_000n);
      await ctx.ledger.connect(ctx.operator).deposit(ctx.grid.address, 1_000_000_000n);
      await ctx.ledger.connect(ctx.operator).beginSettlement(s.slot, RETAIL, BUY_BACK, 1);
      return { ...ctx, s };
    }
    const lotPage = (ledger, operator, s, first, count) =>
      ledger.connect(operator).settleLotsPage(s.slot, first, packLots(s.lots.slice(first, first + count)), packFlows(s.flows.slice(first, first + count)));
    const partyPage = (ledger, operator, s, first, count, last = false, parties = s.parties) =>
      ledger.connect(operator).settlePartiesPage(s.slot, first, packParties(parties.slice(first, first + count)), last);
    async function state(ledger, s) {
      return {
        progress: await ledger.settlementProgress(s.slot),
        balances: await Promise.all(s.people.map((p) => ledger.balanceOf(p))),
        hash: await ledger.slotLotsHash(s.slot),
      };
    }

    it("refuses pages before begin, a second begin, and settleSlot or new lots while paging", async function () {
      const { ledger, operator, s } = await begun();
      expect(await ledger.settlementProgress(s.slot)).to.deep.equal([1n, 0n, 0n]);
      const other = { ...s, slot: s.slot + 1 };
      await expect(partyPage(ledger, operator, other, 0, 1)).to.be.revertedWithCustomError(ledger, "SettlementNotBegun").withArgs(other.slot);
      await expect(lotPage(ledger, operator, other, 0, 1)).to.be.revertedWithCustomError(ledger, "SettlementNotBegun");
      await expect(ledger.connect(operator).beginSettlement(s.slot, RETAIL, BUY_BACK, 1))
        .to.be.revertedWithCustomError(ledger, "SettlementInProgress").withArgs(s.slot);
      await expect(ledger.connect(operator).settleSlot(s.slot, packLots(s.lots), packFlows(s.flows), packParties(s.parties), RETAIL, BUY_BACK, 1))
        .to.be.revertedWithCustomError(ledger, "SettlementInProgress");
      const late = lot(500, s.slot, s.people[0], s.people[1], 100, 2000, 0);
      await expect(ledger.connect(operator).recordLots(packLots([late]))).to.be.revertedWithCustomError(ledger, "SettlementInProgress").withArgs(s.slot);
      // The slot's lots hash is still readable while paging.
      expect(await ledger.slotLotsHash(s.slot)).to.not.equal(ethers.ZeroHash);
    });

    it("refuses a page that does not start where the settlement stands (a retry that landed)", async function () {
      const { ledger, operator, s } = await begun();
      await lotPage(ledger, operator, s, 0, 2);
      const before = await state(ledger, s);
      await expect(lotPage(ledger, operator, s, 0, 2)).to.be.revertedWithCustomError(ledger, "PageOutOfOrder").withArgs(s.slot, 2, 0);
      await expect(lotPage(ledger, operator, s, 3, 2)).to.be.revertedWithCustomError(ledger, "PageOutOfOrder").withArgs(s.slot, 2, 3);
      expect(await state(ledger, s)).to.deep.equal(before);
      await lotPage(ledger, operator, s, 2, 4);
      await partyPage(ledger, operator, s, 0, 3);
      await expect(partyPage(ledger, operator, s, 0, 3)).to.be.revertedWithCustomError(ledger, "PageOutOfOrder").withArgs(s.slot, 3, 0);
    });

    it("refuses the party pages before every lot is given, and lot pages after", async function () {
      const { ledger, operator, s } = await begun();
      await lotPage(ledger, operator, s, 0, 5); // one lot left out
      const before = await state(ledger, s);
      await expect(partyPage(ledger, operator, s, 0, 2)).to.be.revertedWithCustomError(ledger, "LotsMismatch").withArgs(s.slot);
      expect(await state(ledger, s)).to.deep.equal(before);
      await lotPage(ledger, operator, s, 5, 1);
      await partyPage(ledger, operator, s, 0, 2);
      await expect(lotPage(ledger, operator, s, 6, 1)).to.be.revertedWithCustomError(ledger, "WrongPhase").withArgs(s.slot, 2);
    });

    it("refuses an altered lot: the running hash differs", async function () {
      const { ledger, operator, s } = await begun();
      const altered = s.lots.map((l, k) => (k === 3 ? { ...l, priceTicks: l.priceTicks - 1 } : l));
      await ledger.connect(operator).settleLotsPage(s.slot, 0, packLots(altered), packFlows(s.flows));
      await expect(partyPage(ledger, operator, s, 0, 1)).to.be.revertedWithCustomError(ledger, "LotsMismatch");
    });

    it("aborts a settlement whose lot pages went wrong, and settles the slot anew with nothing of the aborted attempt", async function () {
      const { ledger, operator, grid, s } = await begun();
      const altered = s.lots.map((l, k) => (k === 3 ? { ...l, energyWh: l.energyWh + 100 } : l));
      await ledger.connect(operator).settleLotsPage(s.slot, 0, packLots(altered), packFlows(s.flows));
      await expect(partyPage(ledger, operator, s, 0, 1)).to.be.revertedWithCustomError(ledger, "LotsMismatch");
      const hash = (await ledger.settlementProgress(s.slot)) && (await ledger.slotLotsHash(s.slot));
      await expect(ledger.connect(operator).abortSettlement(s.slot)).to.emit(ledger, "SettlementAborted").withArgs(s.slot, 6);
      expect(await ledger.settlementProgress(s.slot)).to.deep.equal([0n, 0n, 0n]);
      expect(await ledger.slotLotsHash(s.slot)).to.equal(hash);
      await expect(ledger.connect(operator).abortSettlement(s.slot)).to.be.revertedWithCustomError(ledger, "SettlementNotBegun");
      // The slot takes lots again, and a new attempt gives exactly the reference nets (the aborted pages' kept
      // amounts, which doubled lot 3's parties' allocations, are not counted).
      const before = await Promise.all(s.people.map((p) => ledger.balanceOf(p)));
      const gridBefore = await ledger.balanceOf(grid.address);
      await settlePaged(ledger, operator, s, { lotPages: [2, 4], partyPages: [3] });
      const ref = expectedNets(s.lots, s.flows, s.parties, RETAIL, BUY_BACK, 1);
      for (let i = 0; i < s.people.length; i++) {
        expect((await ledger.balanceOf(s.people[i])) - before[i]).to.equal(ref.net.get(s.people[i].toLowerCase()));
      }
      expect((await ledger.balanceOf(grid.address)) - gridBefore).to.equal(ref.grid);
      expect(await ledger.readingsRoot(s.slot)).to.equal(readingsRoot(s.slot, s.parties));
    });

    it("refuses to abort once the party pages began, or for anyone but the operator", async function () {
      const { ledger, operator, stranger, s } = await begun();
      await expect(ledger.connect(stranger).abortSettlement(s.slot)).to.be.revertedWithCustomError(ledger, "NotOperator");
      await lotPage(ledger, operator, s, 0, 6);
      await partyPage(ledger, operator, s, 0, 1);
      await expect(ledger.connect(operator).abortSettlement(s.slot)).to.be.revertedWithCustomError(ledger, "WrongPhase").withArgs(s.slot, 2);
    });

    it("refuses parties out of order or twice across a page boundary, with the index in the whole settlement", async function () {
      const { ledger, operator, s } = await begun();
      await lotPage(ledger, operator, s, 0, 6);
      await partyPage(ledger, operator, s, 0, 3);
      const before = await state(ledger, s);
      const repeated = [...s.parties.slice(0, 3), s.parties[2], ...s.parties.slice(3)];
      await expect(partyPage(ledger, operator, s, 3, 1, false, repeated))
        .to.be.revertedWithCustomError(ledger, "DuplicateParty").withArgs(s.parties[2].participant);
      const backwards = [...s.parties.slice(0, 3), s.parties[0]];
      await expect(partyPage(ledger, operator, s, 3, 1, false, backwards)).to.be.revertedWithCustomError(ledger, "InvalidParty").withArgs(3, "order");
      expect(await state(ledger, s)).to.deep.equal(before);
    });

    it("refuses to close while a lot party is unsettled, and allocations above a reading", async function () {
      const { ledger, operator, s } = await begun();
      await lotPage(ledger, operator, s, 0, 6);
      const lotParties = new Set(s.lots.flatMap((l) => [l.seller, l.buyer]));
      const without = s.parties.filter((p) => p.participant !== [...lotParties][0]);
      const before = await state(ledger, s);
      await expect(ledger.connect(operator).settlePartiesPage(s.slot, 0, packParties(without), true))
        .to.be.revertedWithCustomError(ledger, "PartiesMissing").withArgs(s.slot, 1);
      // A reading below what the flows allocate to the party.
      const busy = s.parties.find((p) => s.flows.some((f, k) => s.lots[k].buyer === p.participant && f.consumedWh > 0n));
      const low = s.parties.map((p) => (p === busy ? { ...p, importWh: 0 } : p));
      await expect(ledger.connect(operator).settlePartiesPage(s.slot, 0, packParties(low), true)).to.be.revertedWithCustomError(ledger, "AboveMetered");
      expect(await state(ledger, s)).to.deep.equal(before);
    });

    it("refuses a page whose debtor lacks the balance, and takes the same page after a deposit", async function () {
      const ctx = await deploy();
      const { ledger, operator, grid } = ctx;
      const s = randomSlot(997002, 1, 8, 6, random(9));
      await ledger.connect(operator).recordLots(packLots(s.lots));
      await ledger.connect(operator).deposit(grid.address, 1_000_000_000n);
      const ref = expectedNets(s.lots, s.flows, s.parties, RETAIL, BUY_BACK, 1);
      const debtors = s.parties.filter((p) => ref.net.get(p.participant.toLowerCase()) < 0n);
      for (const p of s.parties) if (p !== debtors[0]) await ledger.connect(operator).deposit(p.participant, 1_000_000_000n);
      await ledger.connect(operator).beginSettlement(s.slot, RETAIL, BUY_BACK, 1);
      await lotPage(ledger, operator, s, 0, 6);
      const at = s.parties.indexOf(debtors[0]);
      if (at > 0) await partyPage(ledger, operator, s, 0, at);
      const before = await state(ledger, s);
      await expect(partyPage(ledger, operator, s, at, 1)).to.be.revertedWithCustomError(ledger, "InsufficientBalance");
      expect(await state(ledger, s)).to.deep.equal(before);
      await ledger.connect(operator).deposit(debtors[0].participant, 1_000_000_000n);
      await partyPage(ledger, operator, s, at, s.parties.length - at, true);
      expect(await ledger.isSettled(s.slot)).to.equal(true);
      await expect(partyPage(ledger, operator, s, 0, 1)).to.be.revertedWithCustomError(ledger, "SlotAlreadySettled").withArgs(s.slot);
    });

    it("keeps the clearing's money: withdrawals wait while creditors were paid before debtors paid in", async function () {
      const ctx = await deploy();
      const { ledger, operator, grid } = ctx;
      // A slot whose first party (lowest address) is a creditor: it is paid before any debtor pays in.
      let s;
      let ref;
      for (let seed = 21; ; seed++) {
        s = randomSlot(997003, 1, 10, 8, random(seed));
        ref = expectedNets(s.lots, s.flows, s.parties, RETAIL, BUY_BACK, 1);
        if (ref.net.get(s.parties[0].participant.toLowerCase()) > 0n) break;
      }
      await ledger.connect(operator).recordLots(packLots(s.lots));
      for (const p of s.people) await ledger.connect(operator).deposit(p, 1_000_000_000n);
      await ledger.connect(operator).deposit(grid.address, 1_000_000_000n);
      const sumOfBalances = async () => {
        let sum = await ledger.balanceOf(grid.address);
        for (const p of s.people) sum += await ledger.balanceOf(p);
        return sum;
      };
      await ledger.connect(operator).beginSettlement(s.slot, RETAIL, BUY_BACK, 1);
      await lotPage(ledger, operator, s, 0, 8);
      // One page per party; after each, balances plus the clearing make the supply, and the clearing is what the
      // parties so far were paid in minus paid out.
      let expected = 0n;
      let wasShort = false;
      for (let i = 0; i < s.parties.length; i++) {
        await partyPage(ledger, operator, s, i, 1, i === s.parties.length - 1);
        if (i < s.parties.length - 1) expected -= ref.net.get(s.parties[i].participant.toLowerCase());
        else expected = 0n; // the last page also moves the grid operator's net: the clearing is empty again
        expect(await ledger.clearing()).to.equal(expected, `after party ${i}`);
        expect((await sumOfBalances()) + (await ledger.clearing())).to.equal(await ledger.totalSupply());
        if (expected < 0n) {
          wasShort = true;
          await expect(ledger.connect(grid).withdraw(1)).to.be.revertedWithCustomError(ledger, "ClearingShort").withArgs(-expected);
        }
      }
      expect(wasShort, "this slot pays a creditor before a debtor pays in").to.equal(true);
      await expect(ledger.connect(grid).withdraw(1)).to.emit(ledger, "Transfer").withArgs(grid.address, ethers.ZeroAddress, 1);
    });

    it("lets only the operator page", async function () {
      const { ledger, stranger, s } = await begun();
      await expect(ledger.connect(stranger).beginSettlement(s.slot + 1, RETAIL, BUY_BACK, 1)).to.be.revertedWithCustomError(ledger, "NotOperator");
      await expect(lotPage(ledger, stranger, s, 0, 1)).to.be.revertedWithCustomError(ledger, "NotOperator");
      await expect(partyPage(ledger, stranger, s, 0, 1)).to.be.revertedWithCustomError(ledger, "NotOperator");
    });
  });

  describe("gas", function () {
    // A slot of the 100x Higashi-Fuji community (issue 6): 2,901 parties, of which about half trade, and
    // several hundred lots. Prints gas per lot and per party so the chain settler can size its pages.
    it("prints gas per page for a slot far over one transaction's cap", async function () {
      this.timeout(600000);
      const { ledger, operator, grid } = await deploy();
      const peopleCount = Number(process.env.PAGED_GAS_PARTIES || 2901);
      const lotCount = Number(process.env.PAGED_GAS_LOTS || 700);
      const rnd = random(4242);
      const people = Array.from({ length: peopleCount }, (_, i) => addr(0x1_0000_0000n + BigInt(i)));
      const traders = people.slice(0, Math.floor(peopleCount / 2));
      const slot = 998001;
      const lots = Array.from({ length: lotCount }, (_, k) => {
        const seller = traders[rnd(traders.length)];
        let buyer = traders[rnd(traders.length)];
        if (buyer === seller) buyer = traders[(traders.indexOf(seller) + 1) % traders.length];
        return lot(1 + k, slot, seller, buyer, 100 + rnd(900), 1500 + rnd(1000), 500);
      });
      const parties = sortParties(people.map((p, i) => ({ meter: addr(0x2_0000_0000n + BigInt(i)), participant: p, importWh: 500 + rnd(1500), exportWh: rnd(1500) })));
      const flows = allocateFifo(lots, parties);
      for (let at = 0; at < lots.length; at += 500) await ledger.connect(operator).recordLots(packLots(lots.slice(at, at + 500)));
      for (const p of people) await ledger.connect(operator).deposit(p, 10n ** 12n);
      await ledger.connect(operator).deposit(grid.address, 10n ** 12n);

      const s = { slot, lots, flows, parties };
      const lotPage = 400;
      const partyPage = 600;
      const receipts = await settlePaged(ledger, operator, s, { lotPages: [lotPage], partyPages: [partyPage] });
      const gas = receipts.map((r) => Number(r.gasUsed));
      const lotPages = Math.ceil(lots.length / lotPage);
      const lotGas = gas.slice(1, 1 + lotPages);
      const partyGas = gas.slice(1 + lotPages);
      const total = gas.reduce((a, b) => a + b, 0);
      console.log(`      paged slot: ${lots.length} lots, ${parties.length} parties (${traders.length} trading), ${receipts.length} transactions, ${total} gas`);
      console.log(`      beginSettlement ${gas[0]}`);
      console.log(`      lot pages of ${lotPage}: ${lotGas.join(", ")} (${(lotGas.reduce((a, b) => a + b, 0) / lots.length).toFixed(0)} gas a lot)`);
      console.log(`      party pages of ${partyPage}: ${partyGas.join(", ")} (${(partyGas.reduce((a, b) => a + b, 0) / parties.length).toFixed(0)} gas a party)`);
      for (const g of gas) expect(g).to.be.below(CAP);
      expect(await ledger.readingsRoot(slot)).to.equal(readingsRoot(slot, parties));
      // In one transaction the slot would not fit: its estimate is refused.
      const oneSlot = slot + 1;
      const twins = lots.map((l, k) => ({ ...l, slot: oneSlot, lotId: 10_000 + k }));
      for (let at = 0; at < twins.length; at += 500) await ledger.connect(operator).recordLots(packLots(twins.slice(at, at + 500)));
      await expect(
        ledger.connect(operator).settleSlot.estimateGas(oneSlot, packLots(twins), packFlows(flows), packParties(parties), RETAIL, BUY_BACK, 1)
      ).to.be.rejected;
    });
  });
});
