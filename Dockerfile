# The healthstream worker image: `docker build -t healthstream:0.1.0 .` from the repository root
# (deploy/docker-compose.yml builds it the same way). The same image runs every CLI command:
# `docker run healthstream:0.1.0 topics create`, `... produce-demo --count 1000`.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY stream_app ./stream_app
# a regular (non-editable) install into a venv that the runtime stage copies whole
RUN python -m venv /opt/healthstream \
    && /opt/healthstream/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
# a fixed non-root uid, so Kubernetes' runAsNonRoot can verify it
RUN useradd --system --uid 10001 --no-create-home healthstream
COPY --from=build /opt/healthstream /opt/healthstream
ENV PATH=/opt/healthstream/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HS_WEB_HOST=0.0.0.0 \
    HS_WEB_PORT=6066 \
    HS_DATA_DIR=/tmp/healthstream
USER 10001
EXPOSE 6066
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:6066/livez', timeout=2)"]
ENTRYPOINT ["python", "-m", "stream_app"]
CMD ["worker"]
