# syntax=docker/dockerfile:1
# PhiGuard container image: a statically linked binary (musl) in a distroless, non-root image.
#
#   docker build -t <registry>/phiguard:0.1.0 .
#
# Built where a Docker engine exists (CI/release machines). scripts/check-static.sh builds
# the same binary without Docker and checks that it is static and runs.

# --- build ---------------------------------------------------------------------------------
# The toolchain version matches rust-toolchain.toml (rustup inside the image honours it).
FROM docker.io/library/rust:1.95.0-bookworm AS build
# musl-tools: the C compiler ring (rustls's crypto) needs for the musl target.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target dir between builds on the same builder. The
# readelf check refuses to ship a binary that needs a dynamic loader (distroless/static
# has none). Stripped: 199 MB → 46 MB (measured by scripts/check-static.sh, which does the same).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target x86_64-unknown-linux-musl -p phiguard --bin phiguard \
 && install -D -m 0755 target/x86_64-unknown-linux-musl/release/phiguard /out/phiguard \
 && strip /out/phiguard \
 && if readelf -l /out/phiguard | grep -q 'Requesting program interpreter'; then \
      echo "phiguard is dynamically linked" >&2; exit 1; fi \
 && /out/phiguard --version

# --- runtime -------------------------------------------------------------------------------
# distroless/static: CA certificates (the AWS SDK and kube use the system roots through
# rustls-native-certs), /etc/passwd with uid 65532 "nonroot", tzdata; no shell, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/phiguard /usr/local/bin/phiguard
# The chart's securityContext also sets runAsNonRoot/runAsUser 65532.
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/phiguard"]
CMD ["run"]
