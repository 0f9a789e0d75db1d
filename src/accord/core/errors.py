from __future__ import annotations


class ValidationFailed(Exception):
    """Input that a service refuses, with one message per offending field.

    The API turns it into a 422 listing each field; pages show the messages by their fields.
    """

    def __init__(self, errors: dict[str, str], *, location: str = "body"):
        self.errors = dict(errors)
        # Where the API says the fields were: "body", "query" (list filters) or "header".
        self.location = location
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls({field: message})
