"""The errors of outbound HTTP: refused destinations, unresolvable hosts, bad answers."""

from __future__ import annotations

from dsac_asr.errors import InputError


class EgressRefusedError(InputError):
    """The URL may not be fetched: bad syntax, or a host that is not on the public internet.

    The message is what the client sees; ``detail`` (for the operator's log) may name
    the resolved address, which the message never does.
    """

    code = "egress_refused"

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


class UnresolvableHostError(InputError):
    """The URL's host name does not resolve to any address."""

    code = "host_unresolvable"


class SourceUnreachableError(InputError):
    """The server answered, but not usefully: an error status, too many redirects, bad TLS."""

    code = "source_unreachable"
