"""A deterministic, realistic demo company for ``accord demo``.

The same seed gives the same people, companies, campaigns, touches, stage histories and deals
(dates are laid out backwards from the day it runs). Leads enter through the capture pipeline
in bulk, as every lead does; the year of activity that follows is written set-wise.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest

from accord.campaigns.models import Campaign, CampaignStatus, Channel, Touchpoint, TouchpointKind
from accord.core.clock import now as clock_now
from accord.core.models import Role, Team, User
from accord.crm.lifecycle import Stage, check_move
from accord.crm.models import Account, Contact, Opportunity, OpportunityStage, StageChange
from accord.intake.leads import lead_from_mapping
from accord.intake.bulk_insert import rows_insert
from accord.intake.services import leads_capture_bulk

DEMO_PASSWORD = "accord-demo"
# username, role, team, first name, last name, title
DEMO_USERS = (
    ("manager", Role.MANAGER, Team.SALES, "Morgan", "Reyes", "Head of Revenue"),
    ("marketer", Role.MARKETING, Team.MARKETING, "Mia", "Torres", "Demand Generation Lead"),
    ("sales1", Role.SALES, Team.SALES, "Sam", "Okafor", "Account Executive"),
    ("sales2", Role.SALES, Team.SALES, "Priya", "Nair", "Account Executive"),
    ("sales3", Role.SALES, Team.SALES, "Lukas", "Berg", "Sales Development Rep"),
    ("admin", Role.ADMIN, Team.MARKETING, "Alex", "Kim", "CRM Administrator"),
)

# name, channel, utm source, utm medium, start (days before today), length in days, budget
CAMPAIGNS = (
    ("Brand search", Channel.PAID_SEARCH, "google", "cpc", 360, 360, 48000),
    ("Competitor keywords", Channel.PAID_SEARCH, "google", "cpc", 300, 180, 22000),
    ("LinkedIn ABM – Finance", Channel.PAID_SOCIAL, "linkedin", "paid_social", 330, 120, 30000),
    ("LinkedIn lead gen forms", Channel.PAID_SOCIAL, "linkedin", "paid_social", 150, 140, 26000),
    ("Retargeting display", Channel.PAID_SOCIAL, "adroll", "display", 240, 200, 12000),
    ("Monthly newsletter", Channel.EMAIL, "newsletter", "email", 365, 365, 4000),
    ("Product launch email", Channel.EMAIL, "hubspot", "email", 200, 30, 2500),
    ("Onboarding nurture", Channel.EMAIL, "nurture", "email", 280, 280, 3000),
    ("Webinar: Pipeline Sales trusts", Channel.WEBINAR, "zoom", "webinar", 310, 45, 6000),
    ("Webinar: Attribution without tears", Channel.WEBINAR, "zoom", "webinar", 190, 45, 6500),
    ("Webinar: Scoring together", Channel.WEBINAR, "zoom", "webinar", 70, 45, 7000),
    ("SaaStr Europa booth", Channel.EVENT, "saastr", "event", 250, 10, 55000),
    ("Regional roadshow", Channel.EVENT, "roadshow", "event", 120, 30, 35000),
    ("State of RevOps report", Channel.CONTENT, "website", "content", 340, 300, 15000),
    ("Buyer's guide ebook", Channel.CONTENT, "website", "content", 160, 160, 9000),
    ("SEO comparison pages", Channel.ORGANIC_SEARCH, "google", "organic", 365, 365, 8000),
    ("Partner co-marketing", Channel.PARTNER, "partners", "partner", 220, 150, 10000),
    ("Customer referral programme", Channel.REFERRAL, "customers", "referral", 365, 365, 5000),
    ("Outbound: enterprise sequence", Channel.SALES, "outbound", "sales", 270, 270, 18000),
    ("Q1 launch webinar series", Channel.WEBINAR, "zoom", "webinar", -10, 60, 9000),
)

_PREFIXES = (
    "Acme", "Globex", "Initech", "Umbra", "Vertex", "Nimbus", "Cobalt", "Helix", "Quantum", "Lumen", "Atlas",
    "Beacon", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Kestrel", "Lattice",
    "Meridian", "Nova", "Orbit", "Pioneer", "Quartz", "Radiant", "Summit", "Tandem", "Unity", "Vista", "Willow",
    "Xenon", "Yonder", "Zephyr", "Northwind", "Bluefin", "Crimson", "Evergreen", "Foxglove", "Goldleaf", "Ironwood",
    "Jetstream", "Keystone", "Lighthouse", "Maple", "Northstar", "Oakridge", "Pinnacle", "Redwood", "Silverline",
    "Tidewater", "Upland", "Valiant", "Westbrook", "Bright", "Clearwater", "Driftwood", "Everest",
)
_CORES = (
    "Labs", "Systems", "Analytics", "Logistics", "Health", "Capital", "Robotics", "Foods", "Energy", "Media",
    "Software", "Security", "Networks", "Bank", "Insurance", "Retail", "Motors", "Pharma", "Cloud", "Data",
    "Learning", "Travel", "Solar", "Foundry", "Partners", "Industries", "Dynamics", "Digital", "Works", "Group",
    "Apparel", "Biotech", "Telecom", "Payments", "Mobility", "Studios", "Ventures", "Materials", "Games", "Farms",
)
_INDUSTRIES = (
    "Software", "Financial services", "Healthcare", "Manufacturing", "Retail", "Logistics", "Education",
    "Media", "Energy", "Telecommunications", "Professional services", "Hospitality",
)
# country, weight, top-level domain, cities, phone maker
_COUNTRIES = (
    ("US", 40, ".com", ("New York", "San Francisco", "Austin", "Chicago", "Boston", "Seattle")),
    ("GB", 14, ".co.uk", ("London", "Manchester", "Bristol", "Edinburgh")),
    ("DE", 14, ".de", ("Berlin", "Munich", "Hamburg", "Cologne")),
    ("FR", 8, ".fr", ("Paris", "Lyon", "Toulouse")),
    ("NL", 6, ".nl", ("Amsterdam", "Rotterdam", "Utrecht")),
    ("CA", 6, ".ca", ("Toronto", "Vancouver", "Montreal")),
    ("ES", 4, ".es", ("Madrid", "Barcelona", "Valencia")),
    ("SE", 4, ".se", ("Stockholm", "Gothenburg")),
    ("AU", 4, ".com.au", ("Sydney", "Melbourne")),
)
_PHONE_PREFIX = {"US": "+1 415 555", "CA": "+1 416 555", "GB": "+44 20 7946", "DE": "+49 30 555",
                 "FR": "+33 1 55 55", "NL": "+31 20 555", "ES": "+34 91 555", "SE": "+46 8 555", "AU": "+61 2 5550"}
_PHONE_DIGITS = {"US": 4, "CA": 4, "GB": 4, "DE": 5, "FR": 4, "NL": 4, "ES": 4, "SE": 4, "AU": 4}
_FIRST = (
    "Ann", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hannah", "Ivan", "Julia", "Kenji", "Laura", "Marco",
    "Nina", "Omar", "Paula", "Quentin", "Rosa", "Stefan", "Tara", "Umar", "Vera", "William", "Ximena", "Yusuf",
    "Zoe", "Aisha", "Bruno", "Carmen", "Daniel", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Leon",
    "Maya", "Noah", "Olivia", "Pedro", "Rania", "Sofia", "Tomás", "Ulla", "Victor", "Wen", "Yara", "Zane", "Amélie",
    "Björn", "Chen", "Dana", "Erik", "Fatima", "Gabriel", "Hiro", "Isla", "Jamal", "Katarzyna", "Liam", "Mei",
    "Nadia", "Oscar", "Pia", "Rafael", "Sara", "Theo", "Valentina", "Jürgen", "Søren", "Lucía", "Mateo", "Ava",
)
_LAST = (
    "Smith", "Johnson", "Garcia", "Müller", "Schmidt", "Martin", "Bernard", "Dubois", "Rossi", "Bianchi", "Kowalski",
    "Nowak", "Jansen", "de Vries", "Andersson", "Johansson", "Nielsen", "Hansen", "Brown", "Taylor", "Wilson",
    "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Green", "Hall", "Wood", "Clarke", "Hughes",
    "Lewis", "Lee", "Kim", "Park", "Chen", "Wang", "Tanaka", "Sato", "Suzuki", "Patel", "Shah", "Singh", "Khan",
    "Ali", "Hassan", "Ibrahim", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Silva", "Santos",
    "Costa", "Oliveira", "Novak", "Horvat", "Kovač", "Popescu", "Ionescu", "Nagy", "Tóth", "Weber", "Wagner",
    "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann",
    "Moreau", "Laurent", "Lefebvre", "Leroy", "Roux", "Fontaine", "Chevalier", "O'Brien", "Murphy", "Kelly",
)
# seniority, weight, titles
_SENIORITIES = (
    ("entry", 20, ("Marketing Associate", "Sales Development Rep", "Analyst", "Coordinator")),
    ("senior", 22, ("Senior Analyst", "Senior Engineer", "Senior Account Manager", "Product Marketing Manager")),
    ("manager", 25, ("Marketing Manager", "Sales Manager", "Operations Manager", "RevOps Manager")),
    ("director", 16, ("Director of Marketing", "Director of Sales", "Head of Growth", "Head of RevOps")),
    ("vp", 9, ("VP Marketing", "VP Sales", "VP Operations")),
    ("c_level", 6, ("CMO", "CRO", "CEO", "COO", "CFO")),
    ("owner", 2, ("Founder", "Managing Director")),
)
_FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de", "icloud.com")
_INTERESTS = (
    "sso", "pricing", "api", "integrations", "security review", "reporting", "attribution", "lead scoring",
    "gdpr", "onboarding", "salesforce migration", "hubspot migration", "mobile app", "fintech", "enterprise plan",
)
_PAGES = ("pricing", "features", "integrations", "customers", "blog/lead-scoring", "blog/sla", "demo", "security")
_RECYCLE_REASONS = (
    "No budget this quarter; revisit next quarter",
    "Timing: evaluating again after their re-org",
    "Not the decision maker; nurture until a champion appears",
    "Went quiet after the first call",
)
_DISQUALIFY_REASONS = ("Student, not a buyer", "Competitor", "Company too small for the product", "Duplicate or fake sign-up")
_LOST_REASONS = ("Price", "Chose a competitor", "No decision", "Missing feature: on-premise", "Budget cut")
_PRODUCTS = ("Team plan", "Business plan", "Enterprise plan", "Platform expansion", "Annual renewal upgrade")
_SALES_KINDS = (
    (TouchpointKind.CALL, 35), (TouchpointKind.SALES_EMAIL, 40), (TouchpointKind.MEETING, 15), (TouchpointKind.NOTE, 10)
)
_CAMPAIGN_KINDS = {
    Channel.PAID_SEARCH: TouchpointKind.AD_CLICK,
    Channel.PAID_SOCIAL: TouchpointKind.AD_CLICK,
    Channel.EMAIL: TouchpointKind.EMAIL_CLICKED,
    Channel.WEBINAR: TouchpointKind.WEBINAR,
    Channel.EVENT: TouchpointKind.EVENT,
    Channel.CONTENT: TouchpointKind.FORM_SUBMISSION,
    Channel.ORGANIC_SEARCH: TouchpointKind.PAGE_VISIT,
    Channel.PARTNER: TouchpointKind.FORM_SUBMISSION,
    Channel.REFERRAL: TouchpointKind.FORM_SUBMISSION,
    Channel.SALES: TouchpointKind.SALES_EMAIL,
}


@dataclass
class DemoSummary:
    users: int = 0
    accounts: int = 0
    contacts: int = 0
    campaigns: int = 0
    touchpoints: int = 0
    opportunities: int = 0
    stage_changes: int = 0


@dataclass
class _Person:
    email: str
    created_at: datetime
    country: str
    campaign: int | None  # index into CAMPAIGNS of the first touch
    rep: int  # index into the reps
    initial_stage: str = Stage.LEAD
    touches_sales: bool = False  # a rep's own prospect
    moves: list[tuple[str, datetime, str]] = field(default_factory=list)  # (to stage, when, reason)
    touches: list[tuple] = field(default_factory=list)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _weighted(rng: random.Random, options, weight_index: int = 1):
    return rng.choices(options, weights=[option[weight_index] for option in options])[0]


def demo_has_data() -> bool:
    return Contact.objects.exists() or Account.objects.exists() or Campaign.objects.exists()


def demo_reset() -> None:
    """Empty the database (every table, users included), so each app's demo data loads afresh."""
    call_command("flush", interactive=False, verbosity=0)


def demo_company_load(*, contacts: int, seed: int, now: datetime, progress=None) -> DemoSummary:
    """Load the company. ``now`` anchors every date; the same seed and day give the same data."""
    rng = random.Random(seed)
    summary = DemoSummary()
    step = progress or (lambda message: None)
    start = now - timedelta(days=365)

    users = _create_users()
    reps = [user for user in users if user.role == Role.SALES]
    marketer = next(user for user in users if user.role == Role.MARKETING)
    summary.users = len(users)
    campaigns = _create_campaigns(rng, now=now, owner=marketer, sales_owner=reps[0])
    summary.campaigns = len(campaigns)
    step(f"{len(users)} users and {len(campaigns)} campaigns")

    companies = _companies(rng, max(1, contacts // 5))
    people = _people(rng, contacts, companies, campaigns, start=start, now=now, reps=len(reps))
    step(f"capturing {len(people)} leads through the pipeline")

    # Leads enter through the pipeline: marketing's captures, then each rep's own prospects.
    by_actor: dict[int | None, list] = defaultdict(list)
    for position, (person, data) in enumerate(people):
        sales_sourced = person.campaign is not None and CAMPAIGNS[person.campaign][1] == Channel.SALES
        by_actor[person.rep if sales_sourced else None].append((position, lead_from_mapping(data, default_region="US")))
    for actor_index, leads in sorted(by_actor.items(), key=lambda item: -1 if item[0] is None else item[0]):
        actor = None if actor_index is None else reps[actor_index]
        outcome = leads_capture_bulk(leads=leads, actor=actor, source=StageChange.Source.CAPTURE)
        if outcome.rejected:
            position, error = outcome.rejected[0]
            raise RuntimeError(f"demo lead {position} was refused: {error}")

    step("a year of touchpoints, stage moves and deals")
    with transaction.atomic():
        ids = dict(Contact.objects.values_list("email", "id"))
        account_of = dict(Contact.objects.values_list("id", "account_id"))
        # Duplicate detection may fold a generated person into one already captured (same name at
        # the same company); that person's history then belongs to the record that survived.
        records = [(ids[person.email], person) for person, _ in people if person.email in ids]
        _plan_history(rng, records, campaigns, now=now)
        summary.stage_changes = _write_history(records, reps, now=now)
        summary.opportunities = _write_opportunities(rng, records, reps, account_of, now=now)
        summary.touchpoints = _write_touchpoints(records, campaigns, reps, now=now)
        _backdate(now=now)
    summary.contacts = Contact.objects.count()
    summary.accounts = Account.objects.count()
    summary.touchpoints = Touchpoint.objects.count()
    summary.stage_changes = StageChange.objects.count()
    return summary


def _create_users() -> list[User]:
    password = make_password(DEMO_PASSWORD)  # hashed once; each user gets the same (salted) hash
    users = [
        User(
            username=username,
            email=f"{username}@accord-demo.example",
            password=password,
            role=role,
            team=team,
            first_name=first,
            last_name=last,
            title=title,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        for username, role, team, first, last, title in DEMO_USERS
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(username__in=[user[0] for user in DEMO_USERS]).order_by("username"))


def _create_campaigns(rng: random.Random, *, now: datetime, owner: User, sales_owner: User) -> list[Campaign]:
    today = now.date()
    rows = []
    for name, channel, source, medium, starts_ago, length, budget in CAMPAIGNS:
        start_date = today - timedelta(days=starts_ago)
        end_date = start_date + timedelta(days=length)
        if start_date > today:
            status = CampaignStatus.PLANNED
        elif end_date >= today:
            status = CampaignStatus.ACTIVE
        else:
            status = CampaignStatus.COMPLETED
        elapsed = min(1.0, max(0.0, (today - start_date).days / max(1, length)))
        cost = None if status == CampaignStatus.PLANNED else Decimal(round(budget * elapsed * rng.uniform(0.8, 1.15)))
        rows.append(
            Campaign(
                name=name,
                channel=channel,
                status=status,
                utm_source=source,
                utm_medium=medium,
                utm_campaign=_ascii(name)[:60],
                start_date=start_date,
                end_date=end_date,
                budget=Decimal(budget),
                actual_cost=cost,
                goal=f"{budget // 100} new leads" if channel != Channel.SALES else "20 qualified meetings a month",
                owner=sales_owner if channel == Channel.SALES else owner,
                created_at=now - timedelta(days=max(starts_ago, 0) + 14),
                updated_at=now,
            )
        )
    Campaign.objects.bulk_create(rows)
    by_name = {campaign.name: campaign for campaign in Campaign.objects.all()}
    return [by_name[spec[0]] for spec in CAMPAIGNS]


def _companies(rng: random.Random, count: int) -> list[dict]:
    combos = [(prefix, core) for prefix in _PREFIXES for core in _CORES]
    rng.shuffle(combos)
    companies = []
    for index in range(count):
        prefix, core = combos[index % len(combos)]
        suffix = "" if index < len(combos) else f" {index // len(combos) + 1}"
        country, _, tld, cities = _weighted(rng, _COUNTRIES)
        employees = int(rng.lognormvariate(4.5, 1.4)) + 5
        companies.append(
            {
                "name": f"{prefix} {core}{suffix}",
                "domain": f"{_ascii(prefix + core + suffix)}{tld}",
                "country": country,
                "city": rng.choice(cities),
                "industry": rng.choice(_INDUSTRIES),
                "employees": min(employees, 250_000),
                "revenue": min(employees, 250_000) * rng.randint(80, 260) * 1000,
            }
        )
    return companies


def _active_campaigns(campaigns: list[Campaign], moment: datetime) -> list[int]:
    day = moment.date()
    return [index for index, c in enumerate(campaigns) if c.start_date <= day <= c.end_date]


def _people(rng, count, companies, campaigns, *, start: datetime, now: datetime, reps: int) -> list[tuple[_Person, dict]]:
    taken: set[str] = set()
    people = []
    span = (now - start).total_seconds() - 3600
    for index in range(count):
        company = companies[index % len(companies)] if index < len(companies) else rng.choice(companies)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        free = rng.random() < 0.08
        domain = rng.choice(_FREE_MAIL) if free else company["domain"]
        local = f"{_ascii(first)}.{_ascii(last)}"
        email = f"{local}@{domain}"
        serial = 2
        while email in taken:
            email = f"{local}{serial}@{domain}"
            serial += 1
        taken.add(email)
        # Lead flow grows over the year: later months bring more.
        created = start + timedelta(seconds=span * rng.random() ** 0.7)
        active = _active_campaigns(campaigns, created)
        campaign = rng.choice(active) if active and rng.random() < 0.75 else None
        seniority, _, titles = _weighted(rng, _SENIORITIES)
        person = _Person(email=email, created_at=created, country=company["country"], campaign=campaign,
                         rep=rng.randrange(reps))
        kind = TouchpointKind.FORM_SUBMISSION
        data = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "job_title": rng.choice(titles),
            "seniority": seniority,
            "company": company["name"],
            "industry": company["industry"],
            "employee_count": company["employees"],
            "annual_revenue": company["revenue"],
            "country": company["country"],
            "city": company["city"],
            "occurred_at": created,
            "lifecycle_stage": Stage.LEAD,
        }
        if not free:
            data["company_domain"] = company["domain"]
        if rng.random() < 0.7:
            prefix = _PHONE_PREFIX[company["country"]]
            data["phone"] = f"{prefix} {rng.randrange(10 ** _PHONE_DIGITS[company['country']]):0{_PHONE_DIGITS[company['country']]}d}"
        if rng.random() < 0.3:
            data["interests"] = rng.sample(_INTERESTS, rng.randint(1, 3))
        if campaign is not None:
            spec = CAMPAIGNS[campaign]
            kind = _CAMPAIGN_KINDS.get(spec[1], TouchpointKind.FORM_SUBMISSION)
            data["utm_campaign"] = campaigns[campaign].utm_campaign
            if spec[1] == Channel.SALES:
                data["team"] = Team.SALES
                person.touches_sales = True
            elif spec[1] == Channel.EMAIL:
                data["lifecycle_stage"] = person.initial_stage = Stage.SUBSCRIBER
            else:
                data["landing_url"] = (
                    f"https://accord-demo.example/{rng.choice(_PAGES)}?utm_source={spec[2]}&utm_medium={spec[3]}"
                    f"&utm_campaign={campaigns[campaign].utm_campaign}"
                )
        else:
            kind = rng.choice((TouchpointKind.FORM_SUBMISSION, TouchpointKind.PAGE_VISIT))
            data["landing_url"] = f"https://accord-demo.example/{rng.choice(_PAGES)}"
        data["kind"] = kind
        people.append((person, data))
    return people


def _plan_history(rng: random.Random, records, campaigns, *, now: datetime) -> None:
    """Each person's path through the lifecycle and the touches along it, all in memory."""
    limit = now - timedelta(hours=1)
    for _, person in records:
        stage = person.initial_stage
        moment = person.created_at

        def move(to_stage: str, after_days: float, reason: str = "") -> bool:
            nonlocal stage, moment
            when = moment + timedelta(days=after_days, hours=rng.uniform(1, 8))
            if when >= limit:
                return False
            check_move(stage, to_stage, reason)  # only moves the lifecycle allows
            person.moves.append((to_stage, when, reason))
            stage, moment = to_stage, when
            return True

        if stage == Stage.SUBSCRIBER and (rng.random() < 0.6 or not move(Stage.LEAD, rng.uniform(5, 60))):
            pass  # stays a newsletter subscriber
        elif rng.random() < 0.04:
            move(Stage.DISQUALIFIED, rng.uniform(1, 10), rng.choice(_DISQUALIFY_REASONS))
        elif rng.random() < 0.42 and move(Stage.MQL, rng.uniform(2, 40)):
            _plan_sales_path(rng, move)
        _plan_touches(rng, person, campaigns, limit=limit)


def _plan_sales_path(rng: random.Random, move) -> None:
    roll = rng.random()
    if roll < 0.18:
        move(Stage.RECYCLED, rng.uniform(1, 5), rng.choice(_RECYCLE_REASONS))
        return
    if roll >= 0.85 or not move(Stage.SAL, rng.uniform(0.1, 2)):
        return  # still waiting for Sales
    roll = rng.random()
    if roll < 0.15:
        move(Stage.RECYCLED, rng.uniform(3, 20), rng.choice(_RECYCLE_REASONS))
    elif roll < 0.22:
        move(Stage.DISQUALIFIED, rng.uniform(2, 10), rng.choice(_DISQUALIFY_REASONS))
    elif roll < 0.8 and move(Stage.SQL, rng.uniform(3, 25)) and rng.random() < 0.85:
        if move(Stage.OPPORTUNITY, rng.uniform(2, 20)):
            roll = rng.random()
            if roll < 0.38:
                move(Stage.CUSTOMER, rng.uniform(20, 90))
            elif roll < 0.7:
                move(Stage.RECYCLED, rng.uniform(20, 90), "Lost the deal: " + rng.choice(_LOST_REASONS))


def _plan_touches(rng: random.Random, person: _Person, campaigns, *, limit: datetime) -> None:
    span_days = max(1.0, (limit - person.created_at).total_seconds() / 86400)
    marketing = min(60, int(rng.expovariate(1 / 5.5) * min(1.0, span_days / 120) + 2))
    for _ in range(marketing):
        when = person.created_at + timedelta(days=rng.uniform(0, span_days))
        if when >= limit:
            continue
        active = [i for i in _active_campaigns(campaigns, when) if CAMPAIGNS[i][1] != Channel.SALES]
        if active and rng.random() < 0.7:
            index = rng.choice(active)
            channel = CAMPAIGNS[index][1]
            if channel == Channel.EMAIL:
                kind = TouchpointKind.EMAIL_OPENED if rng.random() < 0.7 else TouchpointKind.EMAIL_CLICKED
            else:
                kind = _CAMPAIGN_KINDS.get(channel, TouchpointKind.PAGE_VISIT)
            person.touches.append((kind, Team.MARKETING, when, index, None))
        else:
            person.touches.append((TouchpointKind.PAGE_VISIT, Team.MARKETING, when, None, None))
    worked = next((when for stage, when, _ in person.moves if stage == Stage.SAL), None)
    if worked is None:
        return
    end = next((when for stage, when, _ in person.moves if stage in (Stage.CUSTOMER, Stage.RECYCLED, Stage.DISQUALIFIED) and when > worked), limit)
    for _ in range(rng.randint(6, 30)):
        when = worked + (end - worked) * rng.random()
        kind = _weighted(rng, _SALES_KINDS)[0]
        person.touches.append((kind, Team.SALES, when, None, person.rep))


def _write_history(records, reps, *, now: datetime) -> int:
    rows = []
    for contact_id, person in records:
        sales_from = next((when for stage, when, _ in person.moves if stage == Stage.SAL), None)
        previous = None
        for to_stage, when, reason in person.moves:
            by_sales = sales_from is not None and when >= sales_from
            if to_stage == Stage.MQL:
                source = StageChange.Source.SCORING
            elif to_stage == Stage.SAL:
                source = StageChange.Source.HANDOFF
            elif to_stage in (Stage.OPPORTUNITY, Stage.CUSTOMER) and not reason:
                source = StageChange.Source.OPPORTUNITY
            else:
                source = StageChange.Source.MANUAL
            rows.append(
                (
                    contact_id,
                    previous or person.initial_stage,
                    to_stage,
                    reps[person.rep].pk if by_sales else None,
                    when,
                    reason or ("score crossed the MQL threshold" if to_stage == Stage.MQL else ""),
                    source,
                )
            )
            previous = to_stage
    rows_insert(
        model=StageChange,
        columns=("contact", "from_stage", "to_stage", "changed_by", "changed_at", "reason", "source"),
        rows=rows,
    )
    # Where each contact ended up, set group by group (stage_changed_at follows in _backdate).
    groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for contact_id, person in records:
        worked = person.touches_sales or any(stage == Stage.SAL for stage, _, _ in person.moves)
        if not person.moves and not worked:
            continue
        stage = person.moves[-1][0] if person.moves else person.initial_stage
        groups[(stage, reps[person.rep].pk if worked else None)].append(contact_id)
    for (stage, owner_id), ids in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        for start in range(0, len(ids), 5000):
            Contact.objects.filter(pk__in=ids[start : start + 5000]).update(lifecycle_stage=stage, owner_id=owner_id)
    return len(rows)


def _write_opportunities(rng, records, reps, account_of, *, now: datetime) -> int:
    rows = []
    open_stages = (OpportunityStage.PROSPECTING, OpportunityStage.QUALIFICATION, OpportunityStage.PROPOSAL,
                   OpportunityStage.NEGOTIATION)
    for contact_id, person in records:
        opened = next((when for stage, when, _ in person.moves if stage == Stage.OPPORTUNITY), None)
        if opened is None:
            continue
        last_stage, closed, reason = person.moves[-1]
        amount = Decimal(rng.choice((6, 9, 12, 18, 24, 36, 48, 60, 90, 120, 180))) * 1000
        currency = "EUR" if person.country in ("DE", "FR", "NL", "ES") else "GBP" if person.country == "GB" else "USD"
        values = {
            "name": f"{rng.choice(_PRODUCTS)} – {person.email.split('@')[1]}",
            "account_id": account_of.get(contact_id),
            "primary_contact_id": contact_id,
            "owner": reps[person.rep],
            "amount": amount,
            "currency": currency,
            "created_at": opened,
            "updated_at": closed,
        }
        if last_stage == Stage.CUSTOMER:
            values.update(stage=OpportunityStage.WON, closed_at=closed, close_date=closed.date())
        elif last_stage == Stage.RECYCLED:
            values.update(stage=OpportunityStage.LOST, closed_at=closed, close_date=closed.date(),
                          lost_reason=reason.removeprefix("Lost the deal: "))
        else:
            values.update(stage=rng.choice(open_stages), close_date=now.date() + timedelta(days=rng.randint(10, 120)))
        rows.append(Opportunity(**values))
    Opportunity.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


_TOUCHPOINT_COLUMNS = (
    "contact", "campaign", "kind", "channel", "team", "actor", "occurred_at", "url", "utm_source", "utm_medium",
    "utm_campaign", "subject", "body", "metadata", "dedupe_key", "created_at",
)


def _write_touchpoints(records, campaigns, reps, *, now: datetime) -> int:
    subjects = {
        TouchpointKind.CALL: "Discovery call",
        TouchpointKind.SALES_EMAIL: "Following up on your evaluation",
        TouchpointKind.MEETING: "Demo and pricing walkthrough",
        TouchpointKind.NOTE: "Notes from the last conversation",
    }
    rows = []
    for contact_id, person in records:
        for kind, team, when, campaign_index, rep_index in person.touches:
            campaign = campaigns[campaign_index] if campaign_index is not None else None
            rows.append(
                (
                    contact_id,
                    campaign.pk if campaign else None,
                    kind,
                    campaign.channel if campaign else (Channel.SALES if team == Team.SALES else Channel.DIRECT),
                    team,
                    reps[rep_index].pk if rep_index is not None else None,
                    when,
                    "" if team == Team.SALES else "https://accord-demo.example/pricing",
                    campaign.utm_source if campaign else "",
                    campaign.utm_medium if campaign else "",
                    campaign.utm_campaign if campaign else "",
                    subjects.get(kind, ""),
                    "",
                    {},
                    "",
                    when,
                )
            )
    for start in range(0, len(rows), 20_000):
        rows_insert(model=Touchpoint, columns=_TOUCHPOINT_COLUMNS, rows=rows[start : start + 20_000])
    return len(rows)


def _backdate(*, now: datetime) -> None:
    """Dates as if the year had happened: the pipeline stamped its rows with the time it ran.

    Every row here is the demo's own (the command refuses to load over existing data)."""
    Contact.objects.update(created_at=F("first_touch_at"))
    Touchpoint.objects.update(created_at=F("occurred_at"))
    created = Contact.objects.filter(pk=OuterRef("contact_id")).values("created_at")
    StageChange.objects.filter(from_stage="").update(changed_at=Subquery(created[:1]))
    latest = Touchpoint.objects.filter(contact=OuterRef("pk")).order_by("-occurred_at", "-id")
    last_move = StageChange.objects.filter(contact=OuterRef("pk")).order_by("-changed_at", "-id").values("changed_at")
    Contact.objects.update(
        latest_touch_at=Subquery(latest.values("occurred_at")[:1]),
        latest_touch_campaign=Subquery(latest.values("campaign_id")[:1]),
        latest_touch_channel=Subquery(latest.values("channel")[:1]),
        stage_changed_at=Subquery(last_move[:1]),
    )
    Contact.objects.update(updated_at=Greatest("latest_touch_at", "stage_changed_at"))
    first_contact = Contact.objects.filter(account=OuterRef("pk")).order_by("created_at").values("created_at")
    Account.objects.update(created_at=Coalesce(Subquery(first_contact[:1]), F("created_at")))
    Account.objects.update(updated_at=F("created_at"))


def demo_now() -> datetime:
    """Today at midnight UTC: loading twice on one day gives identical data."""
    return clock_now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
