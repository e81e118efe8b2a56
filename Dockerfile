# quaywatch, headless: one image for every process (`quaywatch worker|correlate|terminal serve|
# console|topics create`). The model and the site config are mounted, never baked in:
#   -v /srv/models:/models:ro -v ./site.yaml:/etc/quaywatch/site.yaml:ro
FROM python:3.11-slim-bookworm

# OpenCV's wheel links libGL and glib even when no window is ever opened.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    # ultralytics must never try to download weights or fonts at run time.
    YOLO_OFFLINE=1 \
    YOLO_CONFIG_DIR=/tmp/ultralytics \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /opt/quaywatch
COPY pyproject.toml README.md ./
COPY quaywatch ./quaywatch
COPY config ./config
COPY ingest ./ingest
COPY detectors ./detectors
COPY streams ./streams
# CPU wheels of torch: the detector runs the ONNX model; torch is only ultralytics' import.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu .

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/quaywatch --create-home quaywatch \
    && mkdir -p /etc/quaywatch /models \
    && chown quaywatch:quaywatch /var/lib/quaywatch
USER 10001:10001
WORKDIR /var/lib/quaywatch
VOLUME ["/var/lib/quaywatch"]

# worker, correlator, terminal metrics; console; terminal callbacks.
EXPOSE 9101 9102 9103 8480 8481
ENTRYPOINT ["quaywatch"]
CMD ["--help"]
