# esim-bridge:local — the bridge and its operator tools as a FROM-scratch image: the production
# build (no `demo` feature, so no simulator; that is esim-sim:local).
#
# Built by deploy/build-images.sh from a temp context holding a *static* esim-bridge binary plus
# the passwd/group files below; nothing is pulled, so it builds on a Docker engine without a
# registry. Runs as the unprivileged user 65532 ("nonroot"). For a registry-backed multi-stage
# build (rust builder -> distroless) see deploy/Dockerfile.
FROM scratch
COPY passwd group /etc/
COPY esim-bridge /usr/local/bin/esim-bridge
USER 65532:65532
# Inside a container the admin listener must be reachable from outside the container's
# loopback (Kubernetes probes, `docker run -p`); the webhook listener already binds 0.0.0.0.
ENV ESIM_BRIDGE_ADMIN__LISTEN=0.0.0.0:9090
EXPOSE 8080 9090
# No shell or curl in a scratch image: the binary probes itself.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/esim-bridge", "healthcheck", "--url", "http://127.0.0.1:9090/readyz"]
ENTRYPOINT ["/usr/local/bin/esim-bridge"]
CMD ["serve"]
