#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run lint, types and tests.
# Test speech comes from espeak-ng and flite; the distributed path uses PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v flite >/dev/null || need_apt+=(flite)
command -v redis-server >/dev/null || need_apt+=(redis-server)
[ -d /etc/postgresql ] || need_apt+=(postgresql)
# The web page's tests drive Debian's chromium through chromedriver (no browser download).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The distributed-path tests need a PostgreSQL server (they start their own redis-server).
if ! pg_isready -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# The diarization extra needs torch: this exact version installs a CPU build here; a
# bare requirement would let pip fetch the multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[test]'
# pyannote.audio's torchaudio is built for another torch; the tests use its pure-Python part.
.venv/bin/python scripts/torchaudio_pure.py

export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/pytest "$@"
