# syntax=docker/dockerfile:1
# gosentinel: a drop-in image for the sentinel container of a redis StatefulSet.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gosentinel ./cmd/gosentinel

FROM debian:bookworm-slim
# redis-tools: the chart's scripts call redis-cli inside the sentinel container.
RUN apt-get update && apt-get install -y --no-install-recommends redis-tools ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/gosentinel /usr/local/bin/gosentinel
# The Bitnami chart execs "redis-server <conf> --sentinel"; this name makes that work unchanged.
RUN ln -s /usr/local/bin/gosentinel /usr/local/bin/redis-sentinel
EXPOSE 26379
USER 1001
ENTRYPOINT ["/usr/local/bin/gosentinel"]
