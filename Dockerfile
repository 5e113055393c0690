# syntax=docker/dockerfile:1
# gosentinel's image for people with a container engine: the same file tree
# and settings as `make image` (deploy/image/build.sh, which needs no
# engine), built by the same script. The Bitnami redis chart runs it as its
# sentinel container with only sentinel.image.* changed (README, "Container
# image").
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t gosentinel .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces hashicorp/raft with the patched copy in third_party/raft.
COPY third_party/ third_party/
RUN go mod download
COPY . .
ARG VERSION=dev
ARG SOURCE_DATE_EPOCH=0
# build.sh downloads the Debian packages (bookworm, as this stage), builds
# gosentinel, and writes the image; the layer it also writes is the file
# tree the final stage copies, owners and modes included.
RUN apt-get update \
    && mkdir -p /out /rootfs \
    && VERSION=${VERSION} SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} GOSENTINEL_TOOLS_DIR=/tmp/cache \
       IMAGE_LAYER=/out/layer.tar.gz bash deploy/image/build.sh /out/gosentinel-image.tar \
    && tar -xzpf /out/layer.tar.gz --numeric-owner -C /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# The same settings as tools/mkimage writes into the image config.
ENV PATH=/opt/bitnami/common/bin:/opt/bitnami/redis-sentinel/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/bitnami/redis-sentinel
EXPOSE 26379
USER 1001
ENTRYPOINT ["/opt/bitnami/redis-sentinel/bin/gosentinel"]
CMD ["/opt/bitnami/redis-sentinel/etc/sentinel.conf"]
