"""Bearer-token checks, constant-time, shared by the control plane and the services' admin API."""

from __future__ import annotations

import hmac
from collections.abc import Mapping


def bearer_ok(headers: Mapping[str, str], token: str) -> bool:
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())
