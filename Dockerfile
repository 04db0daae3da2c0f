# hotline in a container: one static binary on distroless, as a non-root
# user, with the SQLite database on the /data volume and the config mounted
# read-only. See README.md, "Deploying".
#
#   docker build -t hotline .
#   docker run -d --name hotline -p 8080:8080 \
#     -v hotline-data:/data -v "$PWD/config:/etc/hotline:ro" \
#     -e TWILIO_AUTH_TOKEN -e TWILIO_ACCOUNT_SID \
#     -e HOTLINE_PUBLIC_URL=https://hotline.example.com hotline
#
# CI cannot run docker build: .ci/static-binary-check.sh builds the same
# binary with the same go build line and runs it as this image would.

# Build on the build machine's platform and cross-compile to the target's:
# a pure-Go build needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Modules first, so editing the code does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary (modernc.org/sqlite is pure Go), so the
# runtime image needs no libc. timetzdata embeds the zone database, so
# rotations keep their wall clock whatever the image holds.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/hotline ./cmd/hotline
# /data must belong to the user hotline runs as: a new named volume is
# created with the ownership it has in the image.
RUN mkdir -p /out/data

# distroless/static: CA certificates (for api.twilio.com), /etc/passwd with
# nonroot (uid 65532), /tmp, and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hotline /hotline
COPY --from=build --chown=65532:65532 /out/data /data
# Relative paths (a database or spool named without a directory) land on the
# volume too, never in the read-only image.
WORKDIR /data
# The config is mounted at /etc/hotline (a directory, so an edited file is
# seen after SIGHUP); the database and its spool live on the volume.
ENV HOTLINE_CONFIG=/etc/hotline/hotline.yaml \
    HOTLINE_DB=/data/hotline.db \
    HOTLINE_ADDR=:8080
VOLUME ["/data"]
# Numeric, so a runtime that enforces "run as non-root" can check it.
USER 65532:65532
EXPOSE 8080
# hotline healthcheck GETs /healthz on the port of HOTLINE_ADDR (2 s
# timeout): there is no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/hotline", "healthcheck"]
ENTRYPOINT ["/hotline"]
# The address comes from HOTLINE_ADDR above, which the health check reads
# too: change the port with -e HOTLINE_ADDR=:9000, and both follow.
CMD ["serve"]
