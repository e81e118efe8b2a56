# make demo: the whole system on this machine.  make test: lint and the whole test suite.
# Both build .venv and fetch what they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DATA_DIR := .data
RESOURCES := $(DATA_DIR)/.fetched
# Debian packages the tests drive: Chromium for the console's browser tests, docker-compose to
# validate the deployment files, opencv-doc as the source of the demo footage, GStreamer's RTSP
# server (run by Debian's python3) as a real RTSP camera, Prometheus and promtool for the alert
# rules and the dashboard's queries.
DEBIAN_PACKAGES := chromium chromium-driver docker-compose \
	gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav prometheus

.PHONY: demo test lint system-packages clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] || ! apt-cache show opencv-doc >/dev/null 2>&1; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(RESOURCES): $(INSTALLED) system-packages
	$(PY) -m quaywatch resources fetch --data-dir $(DATA_DIR)
	touch $@

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(INSTALLED) $(RESOURCES) lint
	YOLO_OFFLINE=1 $(VENV)/bin/pytest

demo: $(INSTALLED) $(RESOURCES)
	YOLO_OFFLINE=1 $(PY) -m quaywatch demo --config config/sites/demo.yaml

clean:
	rm -rf $(VENV) $(DATA_DIR)
