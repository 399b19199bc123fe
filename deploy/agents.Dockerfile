# syntax=docker/dockerfile:1
# The agents: P2PEnergy.Simulator (community day through the exchange over gRPC, the report with its plots).
# Build from the repository root: docker build -f deploy/agents.Dockerfile .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /repo
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN --mount=type=cache,id=p2penergy-nuget,target=/root/.nuget/packages \
    dotnet publish src/Agents/P2PEnergy.Simulator/P2PEnergy.Simulator.csproj -c Release -o /out/agents

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS final
# The report's PNG plots draw text: SkiaSharp (NoDependencies build) reads the fonts in /usr/share/fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/agents/ /app/
# Reports go to /out (the agents-out volume), owned by the app user.
RUN install -d -o 1654 -g 1654 /out
# The non-root user of the .NET images (app, uid 1654).
USER 1654:1654
ENTRYPOINT ["dotnet", "/app/P2PEnergy.Simulator.dll"]
CMD ["--help"]
