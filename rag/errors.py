"""Domain errors. The library raises these; only the CLI and the UI turn them into messages."""


class RagError(Exception):
    """Base class: every error a user can fix. ``str(err)`` is the message to show."""


class EmptyQuestionError(RagError):
    """The question is empty or only whitespace."""


class QuestionTooLongError(RagError):
    """The question exceeds the configured maximum length."""


class SeedsError(RagError):
    """The seeds directory is missing or holds no usable article."""


class DocumentError(SeedsError):
    """One document cannot be read: wrong type, corrupt, encrypted, no text."""


class IndexError_(RagError):
    """The index on disk is missing, corrupt, stale or foreign."""


class CorruptIndexError(IndexError_):
    """A file of the index is missing or unreadable."""


class StaleIndexError(IndexError_):
    """The index was built from other seeds or other settings."""


class ModelNotFoundError(RagError):
    """A model path or id cannot be resolved offline."""


class QuestionSetError(RagError):
    """A question file for ``rag eval`` is malformed."""
