using Google.Protobuf;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Signing;
using Api = P2PEnergy.Exchange.Protos.V1;
using EthAddress = P2PEnergy.Ethereum.Address;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>
/// Authentication at the edge: each submit, cancel and reduce carries its participant's EIP-712 signature
/// (P2PEnergy.Signing, exchange.proto "Signatures"), checked here, before the core and outside the
/// market's lock (recovering a key is CPU work). Refused with <see cref="ResultStatus.BadSignature"/>
/// (UNAUTHENTICATED): a missing signature when <c>Exchange:RequireSignatures</c> is on, and a signature
/// that does not recover to the participant, always. Replays need no check here: a replayed order is the
/// same (participant, client order id), which the core refuses (ALREADY_EXISTS).
/// </summary>
public static class OrderSignatures
{
    /// <summary>Remembers each signer's public key after its first signature: later checks cost about half.</summary>
    private static readonly SignatureVerifier Verifier = new();

    /// <summary>
    /// Authenticates a new order and returns its signed form (fields as sent, digest, signature) for the
    /// slot's order tree. The caller has parsed the participant and checked the signature's length.
    /// </summary>
    public static bool TryAuthenticate(Market market, Api.NewOrder order, Exchange.Address participant, string prefix,
        out SignedOrder signed, out Refusal refusal)
    {
        signed = null!;
        // Side, product and source are signed as uint8: a number outside 0 … 255 cannot have been signed.
        foreach (var (field, value) in (ReadOnlySpan<(string, int)>)[("side", (int)order.Side), ("product", (int)order.Product), ("source", (int)order.Source)])
        {
            if (value is < 0 or > byte.MaxValue)
            {
                refusal = ResultStatus.Invalid(prefix + field, "not a value of its enum (signed as uint8)", $"got {value}");
                return false;
            }
        }
        var message = new OrderMessage(
            participant.ToString(),
            order.ClientOrderId,
            (byte)order.Side,
            unchecked((ulong)order.Slot),
            unchecked((ulong)order.EnergyWh),
            unchecked((ulong)order.LimitPriceTicks),
            (byte)order.Product,
            (byte)order.Source);
        var digest = MarketSigning.Digest(market.SigningDomain, message);
        if (!Check(market, digest, order.Signature, participant, prefix + "signature", out refusal)) return false;
        signed = new SignedOrder(message, digest, order.Signature.ToByteArray());
        return true;
    }

    public static bool TryAuthenticate(Market market, Api.CancelOrderRequest cancel, Exchange.Address participant, out Refusal refusal)
    {
        var digest = MarketSigning.Digest(market.SigningDomain, new CancelOrderMessage(participant.ToString(), unchecked((ulong)cancel.OrderId)));
        return Check(market, digest, cancel.Signature, participant, "signature", out refusal);
    }

    public static bool TryAuthenticate(Market market, Api.ReduceOrderRequest reduce, Exchange.Address participant, out Refusal refusal)
    {
        var digest = MarketSigning.Digest(market.SigningDomain,
            new ReduceOrderMessage(participant.ToString(), unchecked((ulong)reduce.OrderId), unchecked((ulong)reduce.ReduceByWh)));
        return Check(market, digest, reduce.Signature, participant, "signature", out refusal);
    }

    private static bool Check(Market market, byte[] digest, ByteString signature, Exchange.Address participant, string field, out Refusal refusal)
    {
        refusal = default;
        if (signature.IsEmpty)
        {
            if (!market.Options.RequireSignatures) return true; // development mode (Exchange:RequireSignatures = false)
            refusal = ResultStatus.Unauthenticated(field, "the participant's EIP-712 signature is required", "got none");
            return false;
        }
        Span<byte> bytes = stackalloc byte[Exchange.Address.Length];
        participant.WriteTo(bytes);
        var expected = new EthAddress(bytes);
        if (Verifier.IsSignedBy(digest, signature.Span, expected)) return true;
        // Refused: find out why, for the message (the slow path runs only for refusals).
        if (!MarketSigning.TryRecoverSigner(digest, signature.Span, out var signer))
        {
            refusal = ResultStatus.Unauthenticated(field, "signature does not match the participant",
                "not a valid signature: 65 bytes r || s || v with v 27 or 28 and low s");
            return false;
        }
        refusal = ResultStatus.Unauthenticated(field, "signature does not match the participant",
            $"signed by {signer.ToLowerHex()}, participant {participant}; domain: {market.SigningDomain}");
        return false;
    }
}
