# syntax=docker/dockerfile:1
# The chain: a Hardhat node (devnet, chain id 31337) on port 8545, with the contracts' packages installed from
# package-lock.json and compiled offline (npm solc, hardhat.config.js) as scripts/contracts-deps.sh does.
# Build from the repository root: docker build -f deploy/chain.Dockerfile .

FROM node:20-bookworm-slim AS build
WORKDIR /contracts
COPY contracts/package.json contracts/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY contracts/hardhat.config.js ./
COPY contracts/contracts/ contracts/
RUN node_modules/.bin/hardhat compile --quiet

FROM node:20-bookworm-slim AS final
ENV HARDHAT_DISABLE_TELEMETRY_PROMPT=true
WORKDIR /contracts
# Owned by the node user: Hardhat writes its cache beside the project.
COPY --from=build --chown=1000:1000 /contracts/ /contracts/
RUN chown 1000:1000 /contracts
COPY deploy/chain-healthcheck.js /opt/p2penergy/chain-healthcheck.js
# The node images' non-root user (node, uid 1000).
USER 1000:1000
EXPOSE 8545
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=5 \
  CMD ["node", "/opt/p2penergy/chain-healthcheck.js", "http://127.0.0.1:8545", "31337"]
# The node binary itself (not npx), so that the container's stop signal reaches it.
ENTRYPOINT ["node_modules/.bin/hardhat", "node", "--hostname", "0.0.0.0", "--port", "8545"]
