using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;

namespace P2PEnergy.HealthProbe;

/// <summary>The answer of one health check: the serving status when the call succeeded, else why not.</summary>
public sealed record ProbeResult(bool Serving, string Message);

/// <summary>
/// One unary call of grpc.health.v1.Health/Check, framed by hand: the request is a HealthCheckRequest with only
/// <c>service</c> (field 1, string); the answer a HealthCheckResponse with only <c>status</c> (field 1, enum,
/// SERVING = 1). Small enough not to need protobuf or Grpc.Net.Client in the image.
/// </summary>
public static class GrpcHealthProbe
{
    public const string Path = "/grpc.health.v1.Health/Check";

    /// <summary>grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING.</summary>
    private const ulong ServingStatus = 1;

    public static async Task<ProbeResult> CheckAsync(HttpMessageInvoker http, Uri exchange, string service, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(exchange, Path))
        {
            // h2c with prior knowledge: the exchange serves HTTP/2 only (Kestrel EndpointDefaults: Http2).
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Frame(Request(service))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK) return new(false, $"HTTP {(int)response.StatusCode}");
        // A failed call may be "trailers only": grpc-status then comes with the headers.
        var status = Header(response.TrailingHeaders, "grpc-status") ?? Header(response.Headers, "grpc-status");
        if (status != "0")
        {
            var detail = Header(response.TrailingHeaders, "grpc-message") ?? Header(response.Headers, "grpc-message") ?? "";
            return new(false, $"grpc-status {status ?? "missing"} {Uri.UnescapeDataString(detail)}".TrimEnd());
        }
        var servingStatus = ReadStatus(body);
        return servingStatus == ServingStatus ? new(true, "SERVING") : new(false, $"serving status {servingStatus} (SERVING is 1)");
    }

    /// <summary>HealthCheckRequest { string service = 1; }: nothing for the whole server, else tag 0x0A, length, UTF-8.</summary>
    internal static byte[] Request(string service)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(service);
        if (name.Length == 0) return [];
        if (name.Length > 127) throw new ArgumentException("a service name longer than 127 bytes is not supported", nameof(service));
        return [0x0A, (byte)name.Length, .. name];
    }

    /// <summary>The gRPC length-prefixed message: flag 0 (not compressed), 4-byte big-endian length, the message.</summary>
    internal static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Field 1 (varint) of the one framed HealthCheckResponse; 0 (UNKNOWN) when absent, as protobuf says.</summary>
    internal static ulong ReadStatus(byte[] body)
    {
        if (body.Length < 5) throw new FormatException($"the answer has {body.Length} bytes, not a gRPC message");
        if (body[0] != 0) throw new FormatException("the answer is compressed; the probe asks for none");
        var length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
        if (length != body.Length - 5) throw new FormatException($"the answer's frame says {length} bytes, {body.Length - 5} came");
        var message = body.AsSpan(5);
        ulong status = 0;
        var i = 0;
        while (i < message.Length)
        {
            var tag = ReadVarint(message, ref i);
            switch (tag & 7)
            {
                case 0:
                    var value = ReadVarint(message, ref i);
                    if (tag >> 3 == 1) status = value;
                    break;
                case 2:
                    var fieldLength = checked((int)ReadVarint(message, ref i));
                    i = checked(i + fieldLength);
                    break;
                default:
                    throw new FormatException($"unexpected wire type {tag & 7} in the answer");
            }
        }
        if (i != message.Length) throw new FormatException("the answer's message is cut short");
        return status;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (i >= data.Length) throw new FormatException("the answer's message is cut short");
            var b = data[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("a varint of the answer is too long");
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
