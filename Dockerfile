# Builds the demo app and serves it with the prefork master.
#   docker build -t fymo-demo . && docker run -p 8000:8000 fymo-demo
# For your own app: replace the fymo-demo binary with yours (a main over fymo::cli::main)
# and copy your templates/, controllers/, static/ and routes.yml instead. The demo's
# fymo.yml holds a public secret: for a real app pass -e FYMO_SECRET=... (fymo secret).

FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN npm ci --prefix node-tools --no-audit --no-fund \
 && cargo build --release --bin fymo-demo \
 && ./target/release/fymo-demo --root /src build

FROM debian:bookworm-slim
# python3: for Python controllers (standard library only).
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/target/release/fymo-demo /usr/local/bin/fymo-demo
COPY --from=build /src/routes.yml ./routes.yml
COPY --from=build /src/templates ./templates
COPY --from=build /src/controllers ./controllers
COPY --from=build /src/static ./static
COPY --from=build /src/fymo.yml ./fymo.yml
COPY --from=build /src/.fymo/build ./.fymo/build
RUN useradd --system --home /app fymo && chown -R fymo /app
USER fymo
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s \
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/_fymo/health', timeout=2)"
# Workers default to one per core; SIGTERM drains in-flight requests before exit.
CMD ["fymo-demo", "--root", "/app", "--log-format", "json", "serve", "--bind", "0.0.0.0:8000", "--workers", "2"]
