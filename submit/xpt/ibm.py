"""IEEE 754 doubles to the IBM System/370 doubles of XPT v5 (SAS TS-140), vectorized.

IBM: sign bit, 7-bit exponent of 16 biased by 64, 56-bit fraction 0.F with a non-zero first hex
digit: value = 0.F * 16**(E - 64). A double's 53-bit significand shifted left by 0-3 bits (to
make its binary exponent a multiple of 4) fits the 56-bit fraction, so every double in IBM's range
converts exactly. Out of range: |x| >= 16**63 cannot be written (the checks refuse it); |x| < 16**-65
is written as 0, like the zero and the subnormal doubles. NaN (pandas' missing) is SAS missing ".":
0x2E then seven zero bytes."""

from __future__ import annotations

import numpy as np

IBM_MAX = 2.0**252  # 16**63: the smallest magnitude the IBM exponent cannot hold
IBM_MIN = 2.0**-260  # 16**-65: the smallest normalized IBM magnitude
SAS_MISSING = np.uint64(0x2E00000000000000)


def to_ibm(values: np.ndarray) -> np.ndarray:
    """(n,) float64 -> (n, 8) uint8, big-endian IBM doubles."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    sign = bits & np.uint64(0x8000000000000000)
    exponent = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    significand = (bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x0010000000000000)
    # value = significand * 2**(exponent - 1075); shift so that exponent - 1075 - shift is 4k.
    shift = (exponent + 1) & 3
    fraction = significand << shift.astype(np.uint64)
    ibm_exponent = (exponent - 1075 - shift) // 4 + 78  # + 64 bias + 14 hex digits of fraction
    nan = np.isnan(values)
    if np.any((ibm_exponent > 127) & ~nan):
        raise ValueError("infinite or too large for an IBM double (|x| >= 16**63)")
    out = sign | (ibm_exponent.clip(0, 127).astype(np.uint64) << np.uint64(56)) | fraction
    out[(exponent == 0) | (ibm_exponent < 0)] = 0  # zero, subnormal, below IBM's range
    out[nan] = SAS_MISSING
    return out.astype(">u8").view(np.uint8).reshape(-1, 8)
