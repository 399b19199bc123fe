using System.Security.Cryptography;
using System.Text;
using Grpc.Core;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>
/// The market operator's shared secret. With no token configured every MarketAdmin call is allowed (a
/// development or simulation setting); with one, a call needs it in <see cref="Header"/>.
/// </summary>
public static class AdminGuard
{
    public const string Header = "x-admin-token";

    public static void Authorize(string? adminToken, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(adminToken)) return;
        var presented = context.RequestHeaders.GetValue(Header);
        if (string.IsNullOrEmpty(presented))
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"{Header}: the market operator's token is required"));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(adminToken)))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{Header}: not the market operator's token"));
    }
}
