using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace P2PEnergy.Ledger.Tests;

public sealed class LotRecorderHostingTests
{
    [Fact]
    public void AddLotRecorder_shares_one_outbox_and_runs_the_recorder_as_a_hosted_service()
    {
        var dir = Directory.CreateTempSubdirectory("ledger-hosting-");
        try
        {
            var operatorKey = EthKey.Generate();
            var path = Path.Combine(dir.FullName, "deployment.json");
            new LedgerDeployment
            {
                ChainId = 31337,
                Ledger = Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
                Admin = operatorKey.Address,
                Operator = operatorKey.Address,
                DeployBlock = 1,
                TransactionHash = "0x" + new string('0', 64),
                DeployedAt = DateTimeOffset.UnixEpoch,
            }.Save(path);
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddLotRecorder(new LotRecorderSettings
            {
                RpcUrl = new Uri("http://127.0.0.1:1/"),
                OperatorKeyHex = Hex.Encode(operatorKey.PrivateKeyBytes),
                DeploymentPath = path,
                Recorder = new LotRecorderOptions { BatchSize = 500 },
            });
            using var provider = services.BuildServiceProvider();

            var outbox = provider.GetRequiredService<ILotOutbox>();
            Assert.IsType<InMemoryLotOutbox>(outbox);
            Assert.Same(outbox, provider.GetRequiredService<ILotOutbox>());
            var recorder = provider.GetRequiredService<LotRecorder>();
            Assert.Equal(operatorKey.Address, recorder.Operator);
            Assert.Equal(31337UL, recorder.Deployment.ChainId);
            Assert.IsType<LotRecorderService>(Assert.Single(provider.GetServices<IHostedService>()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
