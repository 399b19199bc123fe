using Grpc.Core;
using Grpc.Core.Interceptors;
using P2PEnergy.Exchange.Server.Services;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>
/// Any call that meets <see cref="JournalUnavailableException"/> (a command refused because the journal is down, or an
/// ack that could not be made durable in time) ends with UNAVAILABLE and the journal's reason: never a silent drop.
/// </summary>
public sealed class JournalUnavailableInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (JournalUnavailableException e)
        {
            throw ResultStatus.Unavailable(e.Message).ToException();
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (JournalUnavailableException e)
        {
            throw ResultStatus.Unavailable(e.Message).ToException();
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (JournalUnavailableException e)
        {
            throw ResultStatus.Unavailable(e.Message).ToException();
        }
    }
}
