namespace P2PEnergy.Ledger;

/// <summary>A lot as the chain holds it: the LotRecorded event decoded, with where it was recorded.</summary>
public sealed record RecordedLot(Lot Lot, ulong BlockNumber, string TransactionHash, ulong LogIndex)
{
    public long LotId => Lot.LotId;
}

/// <summary>An OrderRootCommitted event: the Merkle root of a slot's signed orders.</summary>
public sealed record OrderRootCommitment(long Slot, string Root, uint Orders, ulong BlockNumber, string TransactionHash);
