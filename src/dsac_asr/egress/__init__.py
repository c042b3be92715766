"""Outbound HTTP that reaches only the public internet (plus what the operator allows).

Used for URL sources (``download``) and callbacks (``open_stream``): the URL is
checked, its host resolved once, every address checked, and the connection
made to those very addresses; redirects are re-checked hop by hop.
"""

from __future__ import annotations

from dsac_asr.egress.addresses import METADATA_ADDRESSES, IPAddress, is_forbidden_address
from dsac_asr.egress.client import SafeResponse, Timeouts, open_stream
from dsac_asr.egress.download import MAX_REDIRECTS, download
from dsac_asr.egress.errors import (
    EgressRefusedError,
    SourceUnreachableError,
    UnresolvableHostError,
)
from dsac_asr.egress.policy import (
    EgressPolicy,
    check_url,
    check_url_syntax,
    redacted,
    resolve_allowed,
)

__all__ = [
    "MAX_REDIRECTS",
    "METADATA_ADDRESSES",
    "EgressPolicy",
    "EgressRefusedError",
    "IPAddress",
    "SafeResponse",
    "SourceUnreachableError",
    "Timeouts",
    "UnresolvableHostError",
    "check_url",
    "check_url_syntax",
    "download",
    "is_forbidden_address",
    "open_stream",
    "redacted",
    "resolve_allowed",
]
