# syntax=docker/dockerfile:1
# The exchange: ASP.NET Core gRPC server (HTTP/2, h2c) on port 5080, with its health probe.
# Build from the repository root: docker build -f deploy/exchange.Dockerfile .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /repo
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
COPY deploy/healthprobe/ deploy/healthprobe/
# NuGet packages in a BuildKit cache: a changed source file does not download them again.
RUN --mount=type=cache,id=p2penergy-nuget,target=/root/.nuget/packages \
    dotnet publish src/Exchange/P2PEnergy.Exchange.Server/P2PEnergy.Exchange.Server.csproj -c Release -o /out/exchange \
 && dotnet publish deploy/healthprobe/P2PEnergy.HealthProbe.csproj -c Release -o /out/healthprobe

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /out/exchange/ /app/
COPY --from=build /out/healthprobe/ /opt/healthprobe/
# The mount point of the deployment volume, owned by the app user: a named volume takes this owner when it is
# first mounted, and the deploy job (same uid) writes the deployment file there.
RUN install -d -o 1654 -g 1654 /deployment
# Kestrel's "Grpc" endpoint of appsettings.json on all interfaces; the image's default HTTP_PORTS (8080) is cleared
# so that the configured endpoint is the only one.
ENV Kestrel__Endpoints__Grpc__Url=http://+:5080 \
    ASPNETCORE_HTTP_PORTS=
# The non-root user of the .NET images (app, uid 1654).
USER 1654:1654
EXPOSE 5080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["dotnet", "/opt/healthprobe/p2penergy-healthprobe.dll", "http://127.0.0.1:5080"]
ENTRYPOINT ["dotnet", "/app/P2PEnergy.Exchange.Server.dll"]
