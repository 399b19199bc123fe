namespace P2PEnergy.Ledger;

/// <summary>Deploys EnergyLedger from the compiled artifact's bytecode with our own client (one EIP-1559 transaction).</summary>
public static class Deployer
{
    /// <param name="deployerKey">Pays for and signs the deployment.</param>
    /// <param name="admin">The contract's admin (may change operators); the deployer when null.</param>
    /// <param name="operator">The key allowed to record lots (the exchange's or recorder's).</param>
    public static async Task<LedgerDeployment> DeployAsync(
        EthJsonRpcClient client,
        EthKey deployerKey,
        Address? admin,
        Address @operator,
        EnergyLedgerArtifact artifact,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(deployerKey);
        ArgumentNullException.ThrowIfNull(artifact);
        time ??= TimeProvider.System;
        var chainId = await client.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
        var sender = new TransactionSender(client, chainId, time: time);
        var adminAddress = admin ?? deployerKey.Address;
        var data = EnergyLedgerContract.EncodeDeployment(artifact.Bytecode, adminAddress, @operator);
        var receipt = await sender.SendAsync(deployerKey, to: null, data, "deploy EnergyLedger", cancellationToken).ConfigureAwait(false);
        var ledger = receipt.ContractAddress ?? throw new InvalidOperationException("The deployment receipt names no contract address.");
        var contract = new EnergyLedgerContract(client, ledger, chainId);
        if (!await contract.HasCodeAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"No code at {ledger} after the deployment.");
        }
        return new LedgerDeployment
        {
            ChainId = chainId,
            Ledger = ledger,
            Admin = adminAddress,
            Operator = @operator,
            DeployBlock = receipt.BlockNumber,
            TransactionHash = Hex.Encode(receipt.TransactionHash),
            DeployedAt = time.GetUtcNow(),
        };
    }

    /// <summary>Deploys and writes the deployment file.</summary>
    public static async Task<LedgerDeployment> DeployToFileAsync(
        EthJsonRpcClient client, EthKey deployerKey, Address? admin, Address @operator, EnergyLedgerArtifact artifact, string path,
        TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var deployment = await DeployAsync(client, deployerKey, admin, @operator, artifact, time, cancellationToken).ConfigureAwait(false);
        deployment.Save(path);
        return deployment;
    }
}
