# syntax=docker/dockerfile:1
# p2penergy-ledger: the ledger CLI (deploy, operator, record = the lot recorder, audit) with the compiled
# EnergyLedger artifact that `deploy` needs. Build from the repository root: docker build -f deploy/ledger.Dockerfile .

# The contract, compiled offline with the npm solc package (hardhat.config.js), as scripts/contracts-deps.sh does.
FROM node:20-bookworm-slim AS contracts
WORKDIR /contracts
COPY contracts/package.json contracts/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY contracts/hardhat.config.js ./
COPY contracts/contracts/ contracts/
RUN node_modules/.bin/hardhat compile --quiet

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /repo
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN --mount=type=cache,id=p2penergy-nuget,target=/root/.nuget/packages \
    dotnet publish src/Ledger/P2PEnergy.Ledger.Cli/P2PEnergy.Ledger.Cli.csproj -c Release -o /out/ledger

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS final
WORKDIR /app
COPY --from=build /out/ledger/ /app/
# Where `deploy` looks for it (upwards from the program: contracts/artifacts/...); the deploy script also passes it.
COPY --from=contracts /contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json /app/contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json
COPY --chmod=0755 deploy/ledger-deploy.sh deploy/heartbeat-check.sh /app/
# The deployment volume's mount point, owned by the app user (a new named volume takes this owner).
RUN install -d -o 1654 -g 1654 /deployment
# The non-root user of the .NET images (app, uid 1654).
USER 1654:1654
ENTRYPOINT ["dotnet", "/app/p2penergy-ledger.dll"]
CMD ["--help"]
