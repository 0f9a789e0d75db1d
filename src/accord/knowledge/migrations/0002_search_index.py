"""The full-text index, per engine: FTS5 on SQLite, a GIN expression index on PostgreSQL."""

from django.db import migrations

# PostgreSQL keeps the parsed document in a tsvector column (not in Django's model: only this
# engine has it), so ranking many matches does not re-parse every document.
PG_COLUMN = "ALTER TABLE knowledge_articlesearchdocument ADD COLUMN search_vector tsvector"
PG_INDEX = "CREATE INDEX knowledge_search_gin ON knowledge_articlesearchdocument USING GIN (search_vector)"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_COLUMN)
        schema_editor.execute(PG_INDEX)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, document, tokenize = 'porter unicode61')"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_search_gin")
        schema_editor.execute("ALTER TABLE knowledge_articlesearchdocument DROP COLUMN IF EXISTS search_vector")
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_fts")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
