"""QC tools: dataset compare and conformance validation."""
