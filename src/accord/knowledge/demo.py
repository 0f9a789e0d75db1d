"""Demo data for the knowledge base: the materials both teams use, followed by the reps."""

from __future__ import annotations

from datetime import datetime

from accord.core.models import Team, User
from accord.knowledge.services import ArticleInput, article_create, article_follow, article_publish, article_update

ARTICLES = (
    ("Lead handoff process", "process", (), ("mql", "sal"),
     "# Lead handoff\n- Marketing sends leads graded B or better with 50 points\n- Sales follows up within 24 business hours\n"
     "- Reject with a reason code; recycle with a re-entry date"),
    ("Battlecard: Globex", "battlecard", ("executive", "finance"), ("sql", "opportunity"),
     "# Where we win\n- SSO and audit logs in every plan\n- Implementation in two weeks\n\n# Their pitch\n- Cheaper per seat"),
    ("Messaging guide 2026", "messaging", ("marketing", "executive"), ("lead", "mql"),
     "# One line\nAccord makes Marketing and Sales one team.\n\n# Proof points\n- 30 % faster follow-up"),
    ("Fintech case study: Acme Bank", "case_study", ("finance", "technical"), ("mql", "sql"),
     "Acme Bank cut lead response time from 3 days to 4 hours."),
    ("Discovery call playbook", "playbook", ("manager", "operations"), ("sal", "sql"),
     "# Questions\n- What happens today when a lead comes in?\n- Who owns the follow-up?"),
    ("Price sheet 2026", "price_sheet", ("finance", "procurement"), ("opportunity",),
     "- Team: 49 per seat\n- Business: 89 per seat\n- Enterprise: talk to us"),
)


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    marketer = User.objects.filter(team=Team.MARKETING).order_by("id").first()
    reps = list(User.objects.filter(team=Team.SALES, role="sales").order_by("id"))
    if marketer is None:
        return
    for title, kind, personas, stages, body in ARTICLES:
        article = article_create(
            data=ArticleInput(title=title, body=body, kind=kind, personas=personas, stages=stages, tags=(kind.replace("_", " "),)),
            actor=marketer,
        )
        article_publish(article=article, actor=marketer)
        for rep in reps:
            article_follow(article=article, user=rep)
        if kind == "battlecard":
            article_update(
                article=article,
                data=ArticleInput(title=title, body=body + "\n- New: Globex raised prices by 12 %", kind=kind,
                                  personas=personas, stages=stages, change_note="Globex raised prices"),
                actor=marketer,
            )
    stdout.write(f"knowledge: {len(ARTICLES)} articles, followed by {len(reps)} reps")
