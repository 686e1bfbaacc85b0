# One image for the three casecraft services; the command picks the service:
#   python -m gateway | python -m structurer_service | python -m image_service
# Build: docker build -t casecraft:0.1.0 .

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY casecraft ./casecraft
# casecraft/examples links here: the example notes ship inside the package.
COPY examples ./examples
COPY gateway ./gateway
COPY structurer_service ./structurer_service
COPY image_service ./image_service
# The project's wheel plus a wheel for every dependency, then a self-contained virtualenv.
RUN python -m pip wheel --wheel-dir /wheels . \
 && python -m venv /opt/casecraft \
 && /opt/casecraft/bin/pip install --no-index --find-links /wheels casecraft \
 && /opt/casecraft/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
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
EXPOSE 8080 50051 50052
CMD ["python", "-m", "gateway"]
