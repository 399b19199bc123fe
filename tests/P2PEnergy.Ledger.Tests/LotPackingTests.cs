using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests;

public sealed class LotPackingTests
{
    // makeLot(7) of contracts/test/lots.js, packed by its packLot (node, ethers 6.17):
    //   lot id 7            8 bytes  0000000000000007
    //   slot 989046         4 bytes  000f1776
    //   seller 0x…1007     20 bytes  0000000000000000000000000000000000001007
    //   buyer  0x…2007     20 bytes  0000000000000000000000000000000000002007
    //   energy 800 Wh       5 bytes  0000000320
    //   price 1007 ticks    4 bytes  000003ef
    //   wheeling 1000 ticks 3 bytes  0003e8
    //   flags 1 (green)     1 byte   01
    //   sell order 15       5 bytes  000000000f
    //   buy order 16        5 bytes  0000000010
    private const string PackedLot7 =
        "0x" + "0000000000000007" + "000f1776" + "0000000000000000000000000000000000001007" + "0000000000000000000000000000000000002007"
        + "0000000320" + "000003ef" + "0003e8" + "01" + "000000000f" + "0000000010";

    [Fact]
    public void Packs_a_lot_byte_for_byte_as_lots_js_does()
    {
        var lot = TestLots.Make(7);
        Assert.Equal(Product.Green, lot.Product);
        Assert.Equal(EnergySource.Mixed, lot.Source);
        Assert.Equal(PackedLot7, Hex.Encode(LotPacking.Pack(lot)));
        Assert.Equal(75, LotPacking.Pack(lot).Length);
    }

    [Fact]
    public void Packs_the_largest_values_of_every_field()
    {
        var lot = new Lot(
            long.MaxValue, uint.MaxValue, TestLots.AddressOf(1), TestLots.AddressOf(2), (1L << 40) - 1, uint.MaxValue, (1 << 24) - 1,
            Product.Green, EnergySource.Renewable, (1L << 40) - 1, 1);
        var packed = LotPacking.Pack(lot);
        Assert.Equal(
            "0x7fffffffffffffff" + "ffffffff" + "0000000000000000000000000000000000000001" + "0000000000000000000000000000000000000002"
            + "ffffffffff" + "ffffffff" + "ffffff" + "03" + "ffffffffff" + "0000000001",
            Hex.Encode(packed));
        Assert.Equal(lot, LotPacking.Unpack(packed));
    }

    [Theory]
    [InlineData(Product.Standard, EnergySource.Mixed, 0)]
    [InlineData(Product.Green, EnergySource.Mixed, 1)]
    [InlineData(Product.Standard, EnergySource.Renewable, 2)]
    [InlineData(Product.Green, EnergySource.Renewable, 3)]
    public void Flags_are_bit0_green_and_bit1_renewable(Product product, EnergySource source, byte flags)
    {
        Assert.Equal(flags, LotPacking.Flags(product, source));
        var lot = TestLots.Make(10) with { Product = product, Source = source };
        Assert.Equal(flags, LotPacking.Pack(lot)[64]);
        Assert.Equal(lot, LotPacking.Unpack(LotPacking.Pack(lot)));
    }

    [Fact]
    public void A_batch_is_the_packed_lots_back_to_back_inside_recordLots_call_data()
    {
        var lots = TestLots.Range(1, 3);
        var batch = LotPacking.PackBatch(lots);
        Assert.Equal(225, batch.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(lots[i], LotPacking.Unpack(batch.AsSpan(i * 75, 75)));
        }
        var call = EnergyLedgerContract.EncodeRecordLots(lots);
        Assert.Equal(Keccak.Hash256Utf8("recordLots(bytes)")[..4], call[..4]);
        Assert.Equal(batch, (byte[])EnergyLedgerContract.RecordLotsFunction.DecodeCall(call)[0]!);
    }

    [Fact]
    public void The_event_word_unpacks_like_the_contracts_decodeLot()
    {
        // lot id (8) | Wh (5) | price (4) | fee (3) | flags (1) | sell order (5) | buy order (5) | 0 (1)
        var word = Hex.Decode("0x0000000000000007" + "0000000320" + "000003ef" + "0003e8" + "01" + "000000000f" + "0000000010" + "00");
        var lot = TestLots.Make(7);
        Assert.Equal(lot, LotPacking.FromEventWord(word, lot.Slot, lot.Seller, lot.Buyer));
        word[31] = 1;
        Assert.Throws<FormatException>(() => LotPacking.FromEventWord(word, lot.Slot, lot.Seller, lot.Buyer));
    }

    public static TheoryData<string, Lot> Unrecordable => new()
    {
        { "lot id", TestLots.Make(1) with { LotId = 0 } },
        { "slot", TestLots.Make(1) with { Slot = 1L << 32 } },
        { "seller is buyer", TestLots.Make(1) with { Buyer = TestLots.Make(1).Seller } },
        { "energy", TestLots.Make(1) with { EnergyWh = 0 } },
        { "energy", TestLots.Make(1) with { EnergyWh = 1L << 40 } },
        { "price", TestLots.Make(1) with { PriceTicks = 1L << 32 } },
        { "price", TestLots.Make(1) with { PriceTicks = -1 } },
        { "wheeling fee", TestLots.Make(1) with { WheelingFeeTicks = 1 << 24 } },
        { "sell order id", TestLots.Make(1) with { SellOrderId = 1L << 40 } },
        { "buy order id", TestLots.Make(1) with { BuyOrderId = -1 } },
        { "product", TestLots.Make(1) with { Product = (Product)0 } },
        { "source", TestLots.Make(1) with { Source = (EnergySource)7 } },
    };

    [Theory]
    [MemberData(nameof(Unrecordable))]
    public void Refuses_a_lot_the_chain_cannot_hold(string field, Lot lot)
    {
        Assert.Contains(field, LotPacking.Problem(lot));
        Assert.Throws<ArgumentException>(() => LotPacking.Pack(lot));
    }

    [Fact]
    public void A_batch_holds_1_to_1000_lots()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EnergyLedgerContract.EncodeRecordLots([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnergyLedgerContract.EncodeRecordLots(TestLots.Range(1, 1001)));
        Assert.NotEmpty(EnergyLedgerContract.EncodeRecordLots(TestLots.Range(1, 1000)));
    }
}
