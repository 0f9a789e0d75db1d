"""The JSON API: one NinjaAPI with every app's router."""

from ninja import NinjaAPI

api = NinjaAPI(title="Accord API", version="1")
