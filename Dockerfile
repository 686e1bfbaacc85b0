# One image for the three casecraft services; the command picks the service:
#   python -m gateway | python -m structurer_service | python -m image_service
# Build: docker build --build-arg REVISION=$(git rev-parse HEAD) -t casecraft:0.1.0 .
#
# Every dependency resolves from constraints.txt (pinned by `pip freeze` from a clean install of
# the project), so two builds of one commit install the same versions. Regenerate it after
# changing the dependencies in pyproject.toml; tests/test_dockerfile.py checks it covers them.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# A wheel for every dependency first, in a layer of their own: a change to the sources reuses it.
COPY constraints.txt ./
RUN python -m pip wheel --wheel-dir /wheels --requirement constraints.txt
# Then the project's wheel, and a self-contained virtualenv from the wheels alone, held to the
# same pins (nothing new is resolved or downloaded).
COPY pyproject.toml README.md ./
COPY casecraft ./casecraft
# casecraft/examples links here: the example notes ship inside the package.
COPY examples ./examples
COPY gateway ./gateway
COPY structurer_service ./structurer_service
COPY image_service ./image_service
RUN python -m pip wheel --wheel-dir /wheels --no-deps . \
 && python -m venv /opt/casecraft \
 && /opt/casecraft/bin/pip install --no-index --find-links /wheels \
      --constraint constraints.txt casecraft \
 && /opt/casecraft/bin/pip check \
 && /opt/casecraft/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="casecraft" \
      org.opencontainers.image.description="Turns a consultant's freeform notes into a finished case study with three visuals." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ARG UID=10001
RUN groupadd --system --gid ${UID} casecraft \
 && useradd --system --uid ${UID} --gid ${UID} --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin casecraft
COPY --from=builder /opt/casecraft /opt/casecraft
ENV PATH=/opt/casecraft/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CASECRAFT_GATEWAY_HOST=0.0.0.0 \
    CASECRAFT_STRUCTURER_HOST=0.0.0.0 \
    CASECRAFT_IMAGE_HOST=0.0.0.0
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER ${UID}:${UID}
WORKDIR /tmp
# HTTP (gateway, its /metrics too), gRPC (structurer, image), Prometheus (structurer, image).
EXPOSE 8080 50051 50052 9464 9465
CMD ["python", "-m", "gateway"]
