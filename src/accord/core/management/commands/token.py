"""accord token create USERNAME [--name N] | accord token revoke PREFIX | accord token list [USERNAME]"""

from django.core.management.base import BaseCommand, CommandError

from accord.core.errors import ValidationFailed
from accord.core.models import ApiToken, User
from accord.core.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, revoke or list personal API tokens. A new token is printed once; only its hash is kept."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token for a user and print it once")
        create.add_argument("username")
        create.add_argument("--name", default="command line")
        revoke = actions.add_parser("revoke", help="revoke the token whose prefix (as listed) is given")
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help="list tokens (prefix, owner, name, state)")
        listing.add_argument("username", nargs="?", default="")

    def handle(self, *args, action, **options):
        if action == "create":
            self._create(options["username"], options["name"])
        elif action == "revoke":
            self._revoke(options["prefix"])
        else:
            self._list(options["username"])

    def _create(self, username: str, name: str) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"there is no active user named {username!r}")
        try:
            token, raw = api_token_create(user=user, name=name)
        except ValidationFailed as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(f"Token {token.prefix}… for {user.username} ({token.name}). Copy it now; it is not shown again:")
        self.stdout.write(raw)

    def _revoke(self, prefix: str) -> None:
        prefix = prefix.rstrip("…").strip()
        if len(prefix) < 8:
            raise CommandError("give at least the first 8 characters of the token (see `accord token list`)")
        matches = list(ApiToken.objects.filter(prefix__startswith=prefix[:12], revoked_at__isnull=True).select_related("user"))
        if not matches:
            raise CommandError(f"no active token starts with {prefix!r}")
        if len(matches) > 1:
            raise CommandError(f"{len(matches)} active tokens start with {prefix!r}; give a longer prefix")
        api_token_revoke(token=matches[0])
        self.stdout.write(f"Revoked {matches[0].prefix}… of {matches[0].user.username} ({matches[0].name}).")

    def _list(self, username: str) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "created_at")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            self.stdout.write(f"{token.prefix}…  {token.user.username}  {token.name}  {state}, {used}")
