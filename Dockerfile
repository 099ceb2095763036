# One image for every zap service; the command picks the service (see compose.yaml).
FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
COPY patches patches
COPY lib/package.json lib/
COPY sql/package.json sql/
COPY api/package.json api/
COPY hooks/package.json hooks/
COPY processor/package.json processor/
COPY worker/package.json worker/
COPY cli/package.json cli/
COPY standalone/package.json standalone/
COPY testkit/package.json testkit/
COPY bench/package.json bench/
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules node_modules
COPY . .
USER bun
EXPOSE 3001 3002
CMD ["bun", "api/src/main.ts"]
