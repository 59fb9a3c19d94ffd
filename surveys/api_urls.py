"""Survey API routes: see surveys/api.py."""

urlpatterns: list = []
