"""The knowledge base: versions and diffs, search on both engines, files, followers, access."""

from __future__ import annotations

import pytest

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact
from accord.knowledge.diff import diff_summary, version_diff
from accord.knowledge.models import ArticleStatus, ArticleVersion
from accord.knowledge.queries import article_search, articles_for_contact
from accord.knowledge.rendering import article_html
from accord.knowledge.services import (
    ArticleInput,
    article_create,
    article_file_add,
    article_follow,
    article_publish,
    article_update,
)
from accord.notifications.models import Notification

pytestmark = pytest.mark.django_db

BATTLECARD = """# Acme vs Globex
- Globex charges per seat
- We include SSO in every plan

Talk track: ask about their audit needs."""


def published(actor, title="Globex battlecard", body=BATTLECARD, **extra):
    article = article_create(data=ArticleInput(title=title, body=body, kind="battlecard", **extra), actor=actor)
    return article_publish(article=article, actor=actor)


def test_every_save_is_a_version_and_followers_are_told_what_changed(marketer, rep):
    article = published(marketer)
    article_follow(article=article, user=rep)

    updated = article_update(
        article=article,
        data=ArticleInput(title=article.title, body=BATTLECARD.replace("per seat", "per seat and per API call"), kind="battlecard",
                          change_note="Globex changed pricing"),
        actor=marketer,
    )

    assert updated.version == 2
    assert list(ArticleVersion.objects.filter(article=article).values_list("number", flat=True)) == [2, 1]
    [note] = Notification.objects.filter(recipient=rep, kind="knowledge.changed")
    assert "Globex changed pricing" in note.body
    assert "+ - Globex charges per seat and per API call" in note.body
    assert note.url == f"/knowledge/{article.pk}/diff/1/2/"
    # The author is not notified of their own change.
    assert not Notification.objects.filter(recipient=marketer).exists()


def test_saving_unchanged_text_makes_no_new_version(marketer):
    article = published(marketer)
    again = article_update(article=article, data=ArticleInput(title=article.title, body=article.body, kind="battlecard"), actor=marketer)
    assert again.version == 1


def test_a_stale_edit_is_refused_instead_of_overwriting_a_newer_version(marketer):
    article = published(marketer)
    article_update(article=article, data=ArticleInput(title="v2", body="two"), actor=marketer, expected_version=1)
    with pytest.raises(ValidationFailed) as refused:
        article_update(article=article, data=ArticleInput(title="mine", body="stale"), actor=marketer, expected_version=1)
    assert "version" in refused.value.errors


def test_the_diff_shows_changed_lines_with_the_changed_words():
    hunks = version_diff("alpha\nprice is 10 EUR\nomega", "alpha\nprice is 12 EUR\nomega\nnew line")
    lines = [line for hunk in hunks for line in hunk]
    removed = next(line for line in lines if line.op == "removed")
    added = [line for line in lines if line.op == "added"]
    assert [part for part in removed.parts if part[1]] == [("10", True)]
    assert [part for part in added[0].parts if part[1]] == [("12", True)]
    assert added[1].parts == (("new line", True),)
    assert diff_summary("a", "a\nb") .startswith("1 line(s) added")


def test_search_finds_words_and_stems_and_ranks_titles_first(marketer, rep):
    pricing = published(marketer, title="Pricing playbook", body="How we discuss discounts with procurement.")
    published(marketer, title="Onboarding", body="Mention pricing only when asked.")
    draft = article_create(data=ArticleInput(title="Secret pricing draft", body="pricing"), actor=marketer)

    hits = article_search(user=rep, query="pricing")
    assert [hit.article.pk for hit in hits][0] == pricing.pk
    assert draft.pk not in [hit.article.pk for hit in hits]
    # Stemming: "discounting" finds "discounts"; prefix: "procure" finds "procurement".
    assert [hit.article.pk for hit in article_search(user=rep, query="discounting")] == [pricing.pk]
    assert [hit.article.pk for hit in article_search(user=rep, query="procure")] == [pricing.pk]
    # Search operators typed by a user are just words, never a syntax error.
    assert article_search(user=rep, query='"NEAR( AND * OR') == []


def test_search_follows_edits(marketer, rep):
    article = published(marketer, title="Playbook", body="old words")
    article_update(article=article, data=ArticleInput(title="Playbook", body="fresh vocabulary"), actor=marketer)
    assert article_search(user=rep, query="old") == []
    assert [hit.article.pk for hit in article_search(user=rep, query="vocabulary")] == [article.pk]


def test_nobody_but_the_owner_reads_a_private_draft(client, marketer, rep):
    from ..conftest import PASSWORD

    draft = article_create(data=ArticleInput(title="Unannounced pricing", body="secret"), actor=marketer)
    client.login(username=rep.username, password=PASSWORD)
    assert client.get(f"/knowledge/{draft.pk}/").status_code == 404
    assert client.get(f"/knowledge/{draft.pk}/diff/1/1/").status_code == 404
    client.logout()
    client.login(username=marketer.username, password=PASSWORD)
    assert client.get(f"/knowledge/{draft.pk}/").status_code == 200


def test_script_in_article_text_is_shown_as_text():
    html = str(article_html('<script>alert(1)</script>\n- **bold** [site](https://example.test)\n[x](javascript:alert(1))'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://example.test" rel="noopener nofollow">site</a>' in html
    assert 'href="javascript' not in html


def test_an_executable_renamed_pdf_is_refused_and_a_real_pdf_is_served_only_to_signed_in_users(client, marketer, settings, tmp_path):
    from ..conftest import PASSWORD

    settings.MEDIA_ROOT = tmp_path
    article = published(marketer)
    with pytest.raises(ValidationFailed) as refused:
        article_file_add(article=article, name="pricing.pdf", content=b"MZ\x90\x00binary", actor=marketer)
    assert "program" in refused.value.errors["file"]
    with pytest.raises(ValidationFailed) as refused:
        article_file_add(article=article, name="notes.pdf", content=b"just text", actor=marketer)
    assert "does not contain" in refused.value.errors["file"]
    with pytest.raises(ValidationFailed):
        article_file_add(article=article, name="tool.exe", content=b"%PDF-1.4", actor=marketer)
    stored = article_file_add(article=article, name="pricing.pdf", content=b"%PDF-1.7 real", actor=marketer)

    assert client.get(f"/knowledge/files/{stored.pk}/").status_code == 302  # to the login page
    client.login(username=marketer.username, password=PASSWORD)
    response = client.get(f"/knowledge/files/{stored.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 real"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]


def test_oversized_uploads_are_refused(marketer, settings):
    from accord.knowledge import files

    article = published(marketer)
    with pytest.raises(ValidationFailed) as refused:
        article_file_add(article=article, name="big.txt", content=b"a" * (files.MAX_UPLOAD_BYTES + 1), actor=marketer)
    assert "larger than" in refused.value.errors["file"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "personas": ["astronaut"]}, "personas"),
        ({"title": "x", "stages": ["hot"]}, "stages"),
        ({"title": "x", "kind": "poem"}, "kind"),
    ],
)
def test_bad_article_input_is_refused_naming_the_field(marketer, data, field):
    with pytest.raises(ValidationFailed) as refused:
        article_create(data=ArticleInput(**data), actor=marketer)
    assert field in refused.value.errors


def test_the_360_page_suggests_material_for_the_contacts_persona_and_stage(marketer):
    finance = published(marketer, title="CFO one-pager", personas=("finance",))
    mql = published(marketer, title="MQL follow-up playbook", stages=(Stage.MQL,))
    both = published(marketer, title="Finance MQL guide", personas=("finance",), stages=(Stage.MQL,))
    published(marketer, title="Developer docs", personas=("technical",))
    article_create(data=ArticleInput(title="Draft for finance", personas=("finance",)), actor=marketer)
    contact = Contact.objects.create(
        email="cfo@acme.test", job_title="Chief Financial Officer (CFO)", lifecycle_stage=Stage.MQL,
        created_at=now(), updated_at=now(),
    )

    suggestions = articles_for_contact(contact)

    assert [s.article.pk for s in suggestions] == [both.pk, mql.pk, finance.pk]
    assert suggestions[0].because == "finance buyer, mql stage"


def test_sales_may_read_but_the_draft_stays_private_in_lists(client, marketer, rep):
    from ..conftest import PASSWORD

    published(marketer, title="Shared playbook")
    article_create(data=ArticleInput(title="Private notes"), actor=marketer)
    client.login(username=rep.username, password=PASSWORD)
    page = client.get("/knowledge/").content.decode()
    assert "Shared playbook" in page and "Private notes" not in page
    assert ArticleStatus.DRAFT == "draft"


def test_search_through_the_api_names_a_missing_query(client, marketer, rep):
    from ..conftest import PASSWORD

    published(marketer, title="Pricing playbook", body="discounts")
    client.login(username=rep.username, password=PASSWORD)
    hits = client.get("/api/knowledge/search", {"q": "pricing"}).json()
    assert [hit["title"] for hit in hits] == ["Pricing playbook"]
    assert client.get("/api/knowledge/search").status_code == 422
    assert client.get("/api/team/directory", {"q": "maria"}).status_code == 200
