#!/usr/bin/env bash
# Runs the quantisation cross-check: quant_oracle_dump writes blocks and our results to a temporary
# directory, check_quants.py compares them with gguf's. Exit 77 (skipped) when PYTHON cannot import
# gguf. Usage: run_quant_oracle.sh PYTHON QUANT_ORACLE_DUMP CHECK_QUANTS_PY [SEED]
set -u
python=$1 dump=$2 check=$3
if ! "$python" -c "import gguf, numpy" >/dev/null 2>&1; then
  echo "skipped: '$python' cannot import gguf (point PTXSMITH_ORACLE_PYTHON at a Python that has it;"
  echo "scripts/install-deps.sh makes one in .venv-oracles)"
  exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ptxsmith-quant-oracle.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
"$dump" "$dir" ${4:+"$4"} || exit 1
"$python" "$check" "$dir"
