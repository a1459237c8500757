# esim-sim:local — the provider simulator (crates/esim-sim) as a FROM-scratch image, for
# deploy/compose.yaml and the container tests; never part of a production deployment.
#
# Built by deploy/build-images.sh from the same temp context as the other images: the static
# esim-sim binary and, as the health probe, the static esim-bridge binary (scratch has no shell
# or curl; `esim-bridge healthcheck` is one HTTP GET). Runs as the unprivileged user 65532.
FROM scratch
COPY passwd group /etc/
COPY esim-sim /usr/local/bin/esim-sim
COPY esim-bridge /usr/local/bin/healthcheck
USER 65532:65532
EXPOSE 8081
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/healthcheck", "healthcheck", "--url", "http://127.0.0.1:8081/_sim/clock"]
ENTRYPOINT ["/usr/local/bin/esim-sim"]
CMD ["--listen=0.0.0.0:8081"]
