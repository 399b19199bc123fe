using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Redis;
using StackExchange.Redis;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>The Redis mode (section "Redis"): journal, snapshots, lot outbox. Nothing is registered without a connection string.</summary>
public static class DurabilityRegistration
{
    public static WebApplicationBuilder AddDurability(this WebApplicationBuilder builder)
    {
        var options = new RedisOptions();
        builder.Configuration.GetSection(RedisOptions.Section).Bind(options);
        options.Validate();
        var services = builder.Services;
        services.AddSingleton(options);
        if (!options.Enabled) return builder;

        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var config = ConfigurationOptions.Parse(options.ConnectionString);
            config.AbortOnConnectFail = false; // Redis may come up after the exchange: recovery waits for it
            config.ClientName ??= "p2penergy-exchange";
            config.AllowAdmin = true; // CONFIG GET append*: the start-up log says what an acknowledgement survives
            return ConnectionMultiplexer.Connect(config);
        });
        services.AddSingleton(sp => new RedisLotOutbox(sp.GetRequiredService<IConnectionMultiplexer>(), options.Market));
        // The chain recording takes this outbox instead of its in-memory one (it registers with TryAdd).
        services.AddSingleton<ILotOutbox>(sp => sp.GetRequiredService<RedisLotOutbox>());
        var lotsToOutbox = options.LotOutbox ?? !string.IsNullOrWhiteSpace(builder.Configuration[$"{Chain.LedgerOptions.Section}:{nameof(Chain.LedgerOptions.RpcUrl)}"]);
        services.AddSingleton(sp =>
        {
            var outbox = sp.GetRequiredService<RedisLotOutbox>();
            var journal = new RedisMarketJournal(sp.GetRequiredService<IConnectionMultiplexer>(), options,
                lotsToOutbox
                    ? async (lots, ct) => await outbox.AddRangeAsync(lots, ct).ConfigureAwait(false)
                    : static (_, _) => Task.CompletedTask,
                sp.GetRequiredService<ILogger<RedisMarketJournal>>());
            if (sp.GetService<Observability.ExchangeMetrics>() is { } metrics)
            {
                journal.BatchWritten = metrics.RecordJournalAppend;
                metrics.ObserveJournalBacklog(() => journal.Backlog);
            }
            return journal;
        });
        services.AddSingleton<IMarketJournal>(sp => sp.GetRequiredService<RedisMarketJournal>());
        services.AddSingleton(sp =>
        {
            var recovery = ActivatorUtilities.CreateInstance<JournalRecovery>(sp);
            recovery.LotsToOutbox = lotsToOutbox;
            return recovery;
        });
        services.AddSingleton<JournalSnapshots>();
        services.AddHostedService<JournalFlushOnStop>();
        return builder;
    }

    /// <summary>In Redis mode, rebuilds the market from the journal before anything is served (called by MapExchange).</summary>
    public static void RecoverFromJournal(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<RedisOptions>().Enabled) return;
        var journal = app.Services.GetRequiredService<RedisMarketJournal>();
        var snapshots = app.Services.GetRequiredService<JournalSnapshots>();
        journal.SnapshotDue = snapshots.OnSnapshotDue;
        app.Services.GetRequiredService<JournalRecovery>().Run();
    }
}

/// <summary>On a graceful stop, waits (a little) for the journal to write what was applied, then stops its writer.</summary>
public sealed partial class JournalFlushOnStop(RedisMarketJournal journal, ILogger<JournalFlushOnStop> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!await journal.FlushAsync(TimeSpan.FromSeconds(5))) LogNotFlushed(journal.Backlog);
        await journal.DisposeAsync();
    }

    [LoggerMessage(EventId = 77, Level = LogLevel.Warning, Message = "Stopping with {Backlog} journal entries not written: those commands were never acknowledged and are lost")]
    private partial void LogNotFlushed(long backlog);
}
