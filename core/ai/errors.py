"""Errors raised by the AI providers."""

from __future__ import annotations


class AIError(Exception):
    """Base class for failures of an AI provider."""


class AnalysisError(AIError):
    """The analyser could not produce a valid ContentAnalysisResult."""


class WriterError(AIError):
    """The writer could not produce a valid Draft."""
