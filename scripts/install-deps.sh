#!/usr/bin/env bash
# Installs the Debian packages ptxsmith builds with, when they are missing. Safe to run again.
set -euo pipefail

packages=(cmake make g++ libfmt-dev doctest-dev)
if [ "${PTXSMITH_WITH_CLANG:-0}" = 1 ]; then packages+=(clang); fi
# The tests' independent oracles (the `gguf` package from PyPI) live in a virtual environment.
if [ "${PTXSMITH_ORACLES:-0}" = 1 ]; then packages+=(python3 python3-venv); fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
install_oracles() {
  [ "${PTXSMITH_ORACLES:-0}" = 1 ] || return 0
  local venv=.venv-oracles
  if [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c 'import gguf, regex, tokenizers, sentencepiece' 2>/dev/null; then
    return 0
  fi
  echo "ptxsmith: installing the test oracles (pip: gguf, regex, tokenizers, sentencepiece) into $venv" >&2
  [ -x "$venv/bin/python3" ] || python3 -m venv "$venv" || { echo "ptxsmith: no python3 venv; oracle checks will be skipped" >&2; return 0; }
  "$venv/bin/pip" install -q gguf ||
    echo "ptxsmith: could not install the gguf package; the cross-checks against it will be skipped" >&2
  # The tokenizer cross-check's references (tests/llm/test_tokenizer_oracle.py).
  "$venv/bin/pip" install -q regex tokenizers sentencepiece ||
    echo "ptxsmith: could not install the tokenizer oracles; that cross-check will be skipped" >&2
}

if [ ${#missing[@]} -eq 0 ]; then install_oracles; exit 0; fi

echo "ptxsmith: installing missing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ptxsmith: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_oracles
