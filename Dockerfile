# harden in a container: a static (musl) binary built by the release's build
# command, on distroless's static image, as its non-root user.
#
#   docker build -t harden .
#   docker run --rm -v "$PWD:/work" harden diff hardening.toml
#
# The builder is Alpine, whose Rust targets musl: the binary links nothing
# at run time, so the final image holds it and nothing else of the build.

FROM rust:1.95-alpine AS build
WORKDIR /src
COPY . .
# The release workflow's build command (.github/workflows/release.yml), on
# the builder's own musl target.
RUN cargo build --release --locked --bin harden \
    && cp target/release/harden /harden

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /harden /usr/local/bin/harden
# distroless's nonroot user, by number (a name may not resolve on the host).
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["harden"]
