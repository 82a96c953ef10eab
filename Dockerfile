# syntax=docker/dockerfile:1
# Static, non-root images of the kubesaga binaries, one target each:
#
#   docker build --target manager -t kubesaga/manager:dev .
#   docker build --target carts   -t kubesaga/carts:dev .
#   docker build --target stocks  -t kubesaga/stocks:dev .
#   docker build --target sales   -t kubesaga/sales:dev .
#   docker build --target gateway -t kubesaga/gateway:dev .
#
# The default target (the last stage) is the manager. Each image holds one static binary
# at /<name> (the charts' container command), runs as 65532:65532 (distroless "nonroot")
# and needs nothing writable but the volumes the charts mount (/data, /tmp).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Pure Go (SQLite included): CGO off gives static binaries for distroless/static.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/ ./cmd/manager ./cmd/carts ./cmd/stocks ./cmd/sales ./cmd/gateway

FROM gcr.io/distroless/static:nonroot AS runtime
USER 65532:65532

FROM runtime AS carts
COPY --from=build /out/carts /carts
ENTRYPOINT ["/carts"]

FROM runtime AS stocks
COPY --from=build /out/stocks /stocks
ENTRYPOINT ["/stocks"]

FROM runtime AS sales
COPY --from=build /out/sales /sales
ENTRYPOINT ["/sales"]

FROM runtime AS gateway
COPY --from=build /out/gateway /gateway
ENTRYPOINT ["/gateway"]

FROM runtime AS manager
COPY --from=build /out/manager /manager
ENTRYPOINT ["/manager"]
