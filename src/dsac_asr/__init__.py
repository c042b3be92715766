"""dsac-asr: speech recognition backend for South African languages."""

__version__ = "0.1.0"
