from __future__ import annotations


class ValidationFailed(Exception):
    """Input that a service refuses, with one message per offending field.

    The API turns it into a 422 listing each field; pages show the messages by their fields.
    """

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls({field: message})
