# photoguard: the two commands a newcomer runs are `make demo` and `make test`.
# Everything the project needs on a machine is installed from here.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.photoguard-installed
PYTEST_ARGS ?= -n 2

.PHONY: install demo test lint bench clean test-tools

install: $(STAMP)

# face_recognition 1.3.0 declares `dlib`, a 26-minute C++ build; dlib-bin (a
# dependency in pyproject) is the same library as a wheel, so face_recognition
# goes in with --no-deps. setuptools stays below 81: face_recognition_models
# imports pkg_resources, and without it `import face_recognition` quits the
# process with status 0. The self-check below fails the install if that trap
# is armed.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools<81" wheel
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "face_recognition==1.3.0"
	$(BIN)/python -m pip install --quiet "setuptools<81"
	$(BIN)/python -m photoguard_core.selfcheck
	touch $(STAMP)

# ExifTool is the independent metadata reader the tests check our output with.
test-tools:
	@command -v exiftool >/dev/null 2>&1 || { \
	  echo "installing exiftool (Debian: libimage-exiftool-perl)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libimage-exiftool-perl >/dev/null; }

demo: install
	$(BIN)/python -m photoguard_core.demo --out demo-out

test: install test-tools
	$(BIN)/python -m photoguard_core.selfcheck
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: nothing was proven" >&2; exit 1; fi; \
	exit $$rc

lint: install
	$(BIN)/ruff check photoguard_core wagtail_photoguard nextcloud_photoguard tests bench
	$(BIN)/ruff format --check photoguard_core wagtail_photoguard nextcloud_photoguard tests bench

bench: install
	$(BIN)/python bench/detection_recall.py tests/fixtures/detection
	$(BIN)/python bench/throughput.py --make-12mp tests/fixtures/detection/images tests/fixtures/identity/images

clean:
	rm -rf $(VENV) demo-out build *.egg-info .pytest_cache
