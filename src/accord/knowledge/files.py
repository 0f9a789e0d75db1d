"""What may be uploaded to the knowledge base: checked by name AND by content.

An executable renamed ``.pdf`` is refused because its first bytes say what it really is.
"""

from __future__ import annotations

from django.conf import settings

from accord.core.errors import ValidationFailed

MAX_UPLOAD_BYTES = getattr(settings, "ACCORD_MAX_KNOWLEDGE_FILE_BYTES", 10 * 1024 * 1024)
_ZIP = b"PK\x03\x04"
# Extension → (content type, the magic prefixes its content must start with; None = text).
ALLOWED = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (_ZIP,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (_ZIP,)),
    "csv": ("text/csv", None),
    "txt": ("text/plain", None),
    "md": ("text/markdown", None),
}
_EXECUTABLE = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def check_upload(*, name: str, content: bytes) -> str:
    """The content type to serve the file with, or ValidationFailed naming the problem."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED:
        raise ValidationFailed.single("file", f"“.{extension[:10]}” files are not accepted; use {', '.join(sorted(ALLOWED))}")
    if not content:
        raise ValidationFailed.single("file", "is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed.single("file", f"is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if content.startswith(_EXECUTABLE):
        raise ValidationFailed.single("file", "is a program, not a document; it was refused")
    content_type, magic = ALLOWED[extension]
    if magic is None:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed.single("file", f"is not a text file, although it is named .{extension}") from None
        if b"\x00" in content:
            raise ValidationFailed.single("file", f"is not a text file, although it is named .{extension}")
    elif not content.startswith(magic):
        raise ValidationFailed.single("file", f"does not contain what a .{extension} file contains; it was refused")
    return content_type
